package cloudmgmt

import (
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
)

func establish(t *testing.T, c *ctrl, mod func(o *Options), cfg func(*config.Cloud)) *testDev {
	t.Helper()
	d := newDev(t, mod)
	cc := cloudCfg("cloud.test", c.Port)
	if cfg != nil {
		cfg(&cc)
	}
	d.SetConfig(cc, nil, hosts("cloud.test", "primary.test", "backup1.test", "backup2.test", "dhcp.test",
		"manual.test", "wrong.test"))
	d.waitState(t, "Established")
	if !c.Faults().DropKeepaliveAcks {
		// the keepalive sent at establishment is acknowledged: stable
		waitFor(t, "a stable connection", d.connStable)
	}
	d.quiesce(t)
	return d
}

func TestKeepaliveTimeoutCountedInIntervals(t *testing.T) {
	c := startCtrl(t, 0)
	c.SetFaults(controller.Faults{DropKeepaliveAcks: true})
	// telemetry hourly: its timer never falls due 10 s ahead like the keepalive's
	d := establish(t, c, func(o *Options) { o.TelemetryInterval = time.Hour },
		func(cc *config.Cloud) { cc.Keepalive, cc.Ping = 10, 3600 })
	tick := func() { t.Helper(); d.keepaliveTick(t, c, 10*time.Second) }
	waitFor(t, "keepalive timer armed", func() bool { return d.countArmed(10*time.Second) == 1 })
	for i := 1; i <= 2; i++ {
		tick()
		if s := d.state(); s != "Established" {
			t.Fatalf("after %d intervals: %s", i, s)
		}
	}
	d.clk.Advance(10 * time.Second)
	w := d.waitWait(t)
	s := d.Status()
	if s.ConnState != "Waiting" || !strings.HasPrefix(s.LastDownReason, "keepalive timeout (Details:") {
		t.Fatalf("after 3 intervals: %s / %q", s.ConnState, s.LastDownReason)
	}
	// never acknowledged and up 30 s (< 60 s): not stable, so a failed
	// attempt with the growing backoff (Rand 0.5: [5,10] s → 7.5 s)
	if want := "Connection dropped right after establishment (Details:keepalive timeout: no keepalive-ack"; !strings.HasPrefix(s.FailureReason, want) || w != 7500*time.Millisecond {
		t.Fatalf("failure %q, wait %v", s.FailureReason, w)
	}
	// acks flow again → back after the backoff, on the same server
	c.SetFaults(controller.Faults{})
	d.clk.Advance(w)
	d.waitState(t, "Established")
	waitFor(t, "a stable connection", d.connStable) // the first keepalive was acked
	waitFor(t, "keepalive timer armed", func() bool { return d.countArmed(10*time.Second) == 1 })
	for i := 0; i < 5; i++ { // with acks, no timeout
		tick()
		time.Sleep(5 * time.Millisecond) // its ack on the way back
	}
	if s := d.state(); s != "Established" {
		t.Fatalf("with acks: %s (%s)", s, d.Status().LastDownReason)
	}
}

func TestPingTimeoutCountedInIntervals(t *testing.T) {
	c := startCtrl(t, 0)
	// no sub-connections: their pings (same interval) would look like ours
	c.SetFaults(controller.Faults{DropPongs: true, NoSubconn: true})
	d := establish(t, c, nil, func(cc *config.Cloud) { cc.Keepalive, cc.Ping = 3600, 10 })
	waitFor(t, "ping timer armed", func() bool { return d.countArmed(10*time.Second) == 1 })
	for i := 1; i <= 2; i++ {
		d.clk.Advance(10 * time.Second)
		// handled once the ping timer is armed again, 10 s from now
		waitFor(t, "ping timer re-armed", func() bool { return d.countArmed(10*time.Second) == 1 })
		if s := d.state(); s != "Established" {
			t.Fatalf("after %d pings: %s", i, s)
		}
	}
	d.clk.Advance(10 * time.Second)
	d.waitWait(t)
	s := d.Status()
	if s.ConnState != "Waiting" || !strings.HasPrefix(s.LastDownReason, "ping timeout (Details:") {
		t.Fatalf("after 3 pings: %s / %q", s.ConnState, s.LastDownReason)
	}
}

func TestFirstRetryJitter(t *testing.T) {
	for _, r := range []float64{0.25, 0.5, 0.99} {
		c := startCtrl(t, 0)
		d := establish(t, c, func(o *Options) { o.Rand = func() float64 { return r } }, nil)
		c.stop()
		w := d.waitWait(t)
		if want := time.Duration(r * float64(time.Second)); w != want {
			t.Fatalf("rand %v: wait %v want %v", r, w, want)
		}
		if s := d.Status(); !strings.HasPrefix(s.LastDownReason, "server closed connection") &&
			!strings.HasPrefix(s.LastDownReason, "socket connection error") {
			t.Fatalf("down reason %q", s.LastDownReason)
		}
		d.stop()
	}
}

func TestBackoffBoundsAndResets(t *testing.T) {
	c := startCtrl(t, 0)
	port := c.Port
	c.stop() // nothing listens: every attempt fails at once
	for _, r := range []float64{0, 1} {
		d := newDev(t, func(o *Options) { o.Rand = func() float64 { return r } })
		d.SetConfig(cloudCfg("primary.test", port, config.Backup{Domain: "backup1.test"}), nil,
			hosts("primary.test", "backup1.test"))
		// n = 1…5: [5,10] [10,20] [20,40] [40,80] [80,160], then capped.
		want := []int{5, 10, 20, 40, 80, 80, 80}
		if r == 1 {
			want = []int{10, 20, 40, 80, 160, 160, 160}
		}
		for i, w := range want {
			got := d.waitWait(t)
			if got != time.Duration(w)*time.Second {
				t.Fatalf("rand %v pass %d: wait %v want %ds", r, i+1, got, w)
			}
			if i == 0 && !strings.HasPrefix(d.Status().FailureReason, "TCP connection failed (Details:") {
				t.Fatalf("failure %q", d.Status().FailureReason)
			}
			d.clk.Advance(got)
		}
		// The pass after the last advance fails too and waits the capped
		// time; take that wait first, or it could be mistaken for the one
		// after the configuration change.
		if got := d.waitWait(t); got != time.Duration(want[len(want)-1])*time.Second {
			t.Fatalf("rand %v: capped wait %v", r, got)
		}
		// A configuration change resets the backoff at once.
		d.SetConfig(cloudCfg("primary.test", port+0, config.Backup{Domain: "backup1.test", Port: port}), nil,
			hosts("primary.test", "backup1.test"))
		if got := d.waitWait(t); got != time.Duration(want[0])*time.Second {
			t.Fatalf("after config change: %v", got)
		}
		if testing.Verbose() {
			t.Logf("%+v", d.Status())
		}
		// Reset too (one second later, so that the new wait is a new deadline).
		d.advance(t, time.Second)
		d.Reset()
		if got := d.waitWait(t); got != time.Duration(want[0])*time.Second {
			t.Fatalf("after reset: %v", got)
		}
		d.stop()
	}
}

func TestFailoverNoPreemption(t *testing.T) {
	p := startCtrl(t, 0)
	b1 := startCtrl(t, 0)
	b2 := startCtrl(t, 0)
	d := establish(t, p, nil, func(cc *config.Cloud) {
		cc.ServerDomain = "primary.test"
		cc.Backups = []config.Backup{{Domain: "backup1.test", Port: b1.Port}, {Domain: "backup2.test", Port: b2.Port}}
	})
	if s := d.Status(); s.ServerDomain != "primary.test" {
		t.Fatal(s.ServerDomain)
	}
	pport := p.Port
	p.stop()
	w := d.waitWait(t)
	d.clk.Advance(w)
	d.waitState(t, "Established")
	if s := d.Status(); s.ServerDomain != "backup1.test" || s.ServerPort != b1.Port {
		t.Fatalf("after primary loss on %s:%d", s.ServerDomain, s.ServerPort)
	}
	p2 := startCtrl(t, pport)
	d.quiesce(t)
	d.advance(t, 400*time.Second)
	if s := d.Status(); s.ServerDomain != "backup1.test" || s.ConnState != "Established" {
		t.Fatalf("preempted: %s %s", s.ConnState, s.ServerDomain)
	}
	_ = p2
	b1.stop()
	w = d.waitWait(t)
	d.clk.Advance(w)
	d.waitState(t, "Established")
	if s := d.Status(); s.ServerDomain != "backup2.test" {
		t.Fatalf("after backup1 loss on %s", s.ServerDomain)
	}
}

func TestDHCPOutranksManual(t *testing.T) {
	c := startCtrl(t, 0)
	d := establish(t, c, nil, func(cc *config.Cloud) { cc.ServerDomain = "manual.test" })
	sessions := func() int { return c.Devices()[0].Sessions }
	n := sessions()
	d.SetDHCP("manual.test", nil) // same name → keep
	d.quiesce(t)
	if s := d.Status(); s.ConnState != "Established" || sessions() != n || s.LastDownReason != "" {
		t.Fatalf("same name dropped the connection: %+v", s)
	}
	d.SetDHCP("dhcp.test", nil) // different → reconnect now
	waitFor(t, "on dhcp.test", func() bool {
		s := d.Status()
		return s.ConnState == "Established" && s.ServerDomain == "dhcp.test"
	})
	if s := d.Status(); !strings.HasPrefix(s.LastDownReason, "domain changed (Details:") {
		t.Fatalf("down reason %q", s.LastDownReason)
	}
	// Manual domain changes while on the DHCP one: nothing happens (no preemption of dhcp).
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test", "dhcp.test"))
	d.quiesce(t)
	if s := d.Status(); s.ServerDomain != "dhcp.test" || s.ConnState != "Established" {
		t.Fatalf("%+v", s)
	}
}

func TestDomainChangedAndRemovedAndReset(t *testing.T) {
	c := startCtrl(t, 0)
	d := establish(t, c, nil, nil)
	h := hosts("cloud.test", "manual.test")
	// port / keepalive change: applies to the next connection
	cc := cloudCfg("cloud.test", c.Port)
	cc.Keepalive = 60
	d.SetConfig(cc, nil, h)
	d.quiesce(t)
	if s := d.Status(); s.ConnState != "Established" || s.LastDownReason != "" {
		t.Fatalf("keepalive change reconnected: %+v", s)
	}
	cc.ServerDomain = "manual.test"
	d.SetConfig(cc, nil, h)
	waitFor(t, "manual.test", func() bool { s := d.Status(); return s.ServerDomain == "manual.test" && s.ConnState == "Established" })
	if s := d.Status(); !strings.HasPrefix(s.LastDownReason, "domain changed") {
		t.Fatal(s.LastDownReason)
	}
	d.Reset()
	waitFor(t, "reset", func() bool { return strings.HasPrefix(d.Status().LastDownReason, "reset by user") })
	d.waitState(t, "Established")
	cc.ServerDomain = ""
	d.SetConfig(cc, nil, h)
	d.waitState(t, "Idle")
	s := d.Status()
	if !strings.HasPrefix(s.LastDownReason, "configuration removed (Details:") || s.ServerDomain != "" {
		t.Fatalf("%+v", s)
	}
}

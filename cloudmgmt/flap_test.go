package cloudmgmt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
)

// auths is how many authentications c answered 200 for SN1.
func (c *ctrl) auths() int {
	for _, d := range c.Devices() {
		if d.Serial == "SN1" {
			return d.Auths
		}
	}
	return 0
}

// flapDowns are the three ways the broken controller of issue 11 ends a
// connection right after the upgrade: the down reason, and the Failure
// reason it makes.
var flapDowns = map[string]struct{ down, failure string }{
	"oversize-8mib": {"protocol error (Details:frame over 64 KiB (close 1009))",
		"Connection dropped right after establishment (Details:protocol error: frame over 64 KiB (close 1009))"},
	"binary": {"protocol error (Details:binary frame (close 1003))",
		"Connection dropped right after establishment (Details:protocol error: binary frame (close 1003))"},
	"malformed": {"protocol error (Details:malformed JSON object (close 1002))",
		"Connection dropped right after establishment (Details:protocol error: malformed JSON object (close 1002))"},
}

// TestFlapDampingBoundsAuthentications: a controller that completes auth,
// register and the upgrade and then breaks the main connection at once.
// Over 10 s of the fake clock (from the first authentication) the device
// authenticates at most 4 times, each wait is the growing backoff of a
// failed pass (never the 0–1 s jitter), and Failure reason says why.
// Rand 0 gives the shortest waits the backoff allows: the worst case.
func TestFlapDampingBoundsAuthentications(t *testing.T) {
	for kind, want := range flapDowns {
		for _, r := range []float64{0, 0.5} {
			t.Run(fmt.Sprintf("%s/rand%v", kind, r), func(t *testing.T) {
				c := startCtrl(t, 0)
				c.SetFaults(controller.Faults{OnConnect: kind})
				d := newDev(t, func(o *Options) { o.Rand = func() float64 { return r } })
				d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
				start := d.clk.Now()
				var waits []time.Duration
				for {
					w := d.waitWait(t)
					s := d.Status()
					if s.FailureReason != want.failure || s.LastDownReason != want.down {
						t.Fatalf("failure reason %q, last down reason %q; want %q, %q",
							s.FailureReason, s.LastDownReason, want.failure, want.down)
					}
					if n := c.auths(); n != len(waits)+1 {
						t.Fatalf("%d authentications after %d broken connections", n, len(waits)+1)
					}
					waits = append(waits, w)
					if d.clk.Now().Add(w).Sub(start) > 10*time.Second {
						break
					}
					if len(waits) > 4 {
						t.Fatalf("a 5th authentication within 10 s; waits %v", waits)
					}
					d.clk.Advance(w)
				}
				if n := c.auths(); n > 4 {
					t.Fatalf("%d authentications in the first 10 s", n)
				}
				// after that the wait doubles: n = 1, 2, 3 … of the backoff
				for i := 0; i < 3; i++ {
					d.clk.Advance(waits[len(waits)-1])
					waits = append(waits, d.waitWait(t))
				}
				for i, w := range waits {
					lo, hi := d.backoffRange(i + 1)
					if w != lo+time.Duration(r*float64(hi-lo)) {
						t.Fatalf("wait %d is %v, want the backoff of pass %d in [%v, %v]; waits %v", i+1, w, i+1, lo, hi, waits)
					}
				}
				t.Logf("%d authentications in the first 10 s; waits %v", c.auths()-3, waits)
			})
		}
	}
}

// TestStableConnectionResetsBackoff: flaps grow the backoff; a connection
// that gets its keepalive-ack is stable, so its loss is followed by the
// 0–1 s jitter, and the backoff starts again from the first pass.
func TestStableConnectionResetsBackoff(t *testing.T) {
	c := startCtrl(t, 0)
	c.SetFaults(controller.Faults{OnConnect: "binary"})
	d := newDev(t, nil) // Rand 0.5
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
	for _, want := range []time.Duration{7500 * time.Millisecond, 15 * time.Second} {
		if w := d.waitWait(t); w != want {
			t.Fatalf("flap wait %v, want %v", w, want)
		}
		if want == 15*time.Second {
			c.SetFaults(controller.Faults{})
		}
		d.clk.Advance(want)
	}
	d.waitState(t, "Established")
	waitFor(t, "a stable connection", d.connStable)
	if s := d.Status(); s.FailureReason != "" {
		t.Fatalf("failure reason %q while Established", s.FailureReason)
	}
	c.SetFaults(controller.Faults{OnConnect: "binary"})
	if err := c.Inject("SN1", "close"); err != nil {
		t.Fatal(err)
	}
	if w := d.waitWait(t); w != 500*time.Millisecond {
		t.Fatalf("after a stable connection: wait %v, want the 0–1 s jitter (500ms)", w)
	}
	if s := d.Status(); s.FailureReason != "" || !strings.HasPrefix(s.LastDownReason, "server closed connection") {
		t.Fatalf("failure %q, down %q", s.FailureReason, s.LastDownReason)
	}
	d.clk.Advance(500 * time.Millisecond)
	// the next connection flaps: pass 1 of the backoff again, not pass 3
	if w := d.waitWait(t); w != 7500*time.Millisecond {
		t.Fatalf("flap after a stable connection: wait %v, want 7.5s", w)
	}
}

// TestStableAfter60sUp: with no keepalive-ack at all, a connection is stable
// once it has been up 60 s; one second less and its loss is a failed attempt.
func TestStableAfter60sUp(t *testing.T) {
	for _, tc := range []struct {
		up     time.Duration
		wait   time.Duration
		failed bool
	}{
		{59 * time.Second, 7500 * time.Millisecond, true},
		{60 * time.Second, 500 * time.Millisecond, false},
	} {
		t.Run(tc.up.String(), func(t *testing.T) {
			c := startCtrl(t, 0)
			c.SetFaults(controller.Faults{DropKeepaliveAcks: true})
			d := establish(t, c, nil, nil) // keepalive 180 s, ping 60 s
			d.advance(t, tc.up)
			if d.state() != "Established" || d.connStable() {
				t.Fatalf("%s, stable %v before the loss", d.state(), d.connStable())
			}
			if err := c.Inject("SN1", "close"); err != nil {
				t.Fatal(err)
			}
			if w := d.waitWait(t); w != tc.wait {
				t.Fatalf("up %v: wait %v, want %v", tc.up, w, tc.wait)
			}
			s := d.Status()
			if got := strings.HasPrefix(s.FailureReason, "Connection dropped right after establishment (Details:server closed connection: close 1001"); got != tc.failed {
				t.Fatalf("up %v: failure reason %q", tc.up, s.FailureReason)
			}
		})
	}
}

// TestFlapMovesDownTheList: a flap is a failed attempt at its server, so the
// device goes on to the backup at once (no wait) and stays there.
func TestFlapMovesDownTheList(t *testing.T) {
	p := startCtrl(t, 0)
	p.SetFaults(controller.Faults{OnConnect: "malformed"})
	b := startCtrl(t, 0)
	d := newDev(t, nil)
	cc := cloudCfg("primary.test", p.Port, config.Backup{Domain: "backup1.test", Port: b.Port})
	d.SetConfig(cc, nil, hosts("primary.test", "backup1.test"))
	waitFor(t, "on the backup", func() bool {
		s := d.Status()
		return s.ConnState == "Established" && s.ServerDomain == "backup1.test"
	})
	if p.auths() != 1 || !strings.HasPrefix(d.Status().LastDownReason, "protocol error (Details:malformed") {
		t.Fatalf("primary authentications %d, down %q", p.auths(), d.Status().LastDownReason)
	}
	logs := d.log.Snapshot().Entries
	var failed bool
	for _, e := range logs {
		if e.Mnemonic == "CLOUD_WAITING" {
			t.Fatalf("waited before the backup: %s", e.Text)
		}
		failed = failed || e.Mnemonic == "CLOUD_FAILED" && strings.Contains(e.Text, "primary.test: Connection dropped right after establishment")
	}
	if !failed {
		t.Fatal("no CLOUD_FAILED line for the primary")
	}
}

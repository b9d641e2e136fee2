package cloudmgmt

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
)

var t0 = time.Date(2026, 1, 27, 14, 18, 40, 0, time.UTC)

var (
	tlsOnce sync.Once
	tlsDir  string
	caPool  *x509.CertPool
)

// testTLS makes one CA + server cert for the names the tests use.
func testTLS(t testing.TB) (string, *x509.CertPool) {
	tlsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cloudmgmt-tls-")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := controller.EnsureTLS(dir, []string{"localhost", "127.0.0.1", "cloud.test",
			"primary.test", "backup1.test", "backup2.test", "dhcp.test", "manual.test"}); err != nil {
			t.Fatal(err)
		}
		pool, err := controller.CAPool(dir)
		if err != nil {
			t.Fatal(err)
		}
		tlsDir, caPool = dir, pool
	})
	return tlsDir, caPool
}

// ctrl is an in-process controller on a loopback port.
type ctrl struct {
	*controller.Server
	Port   int
	cancel context.CancelFunc
	done   chan struct{}
}

func startCtrl(t testing.TB, port int, serials ...string) *ctrl {
	t.Helper()
	dir, _ := testTLS(t)
	if len(serials) == 0 {
		serials = []string{"SN1"}
	}
	srv := controller.New(controller.Config{Serials: serials})
	tc, err := controller.EnsureTLS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; i < 50; i++ {
		ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil || port == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &ctrl{Server: srv, Port: ln.Addr().(*net.TCPAddr).Port, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(c.done); srv.Serve(ctx, ln, tc) }()
	t.Cleanup(c.stop)
	return c
}

func (c *ctrl) stop() {
	c.cancel()
	<-c.done
}

func (c *ctrl) connected(serial string) bool {
	for _, d := range c.Devices() {
		if d.Serial == serial {
			return d.Connected
		}
	}
	return false
}

type testDev struct {
	*Client
	clk    *clock.Fake
	log    *logbuf.Buffer
	cancel context.CancelFunc
	done   chan struct{}
}

func newDev(t testing.TB, mod func(o *Options)) *testDev {
	t.Helper()
	_, pool := testTLS(t)
	clk := clock.NewFake(t0)
	lb := logbuf.New(512, nil, clk.Now)
	o := Options{Serial: "SN1", MAC: "aa:bb:cc:dd:ee:ff", RootCAs: pool, Clock: clk, Log: lb,
		Rand: func() float64 { return 0.5 }, ResolvConf: "/nonexistent", StepTimeout: 5 * time.Second}
	if mod != nil {
		mod(&o)
	}
	c := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	d := &testDev{Client: c, clk: clk, log: lb, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(d.done); c.Run(ctx) }()
	t.Cleanup(d.stop)
	return d
}

func (d *testDev) stop() {
	d.cancel()
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		panic("Run did not return")
	}
}

var lo = netip.MustParseAddr("127.0.0.1")

func hosts(names ...string) []config.IPHost {
	var h []config.IPHost
	for _, n := range names {
		h = append(h, config.IPHost{Name: n, Addr: lo})
	}
	return h
}

func cloudCfg(domain string, port int, backups ...config.Backup) config.Cloud {
	return config.Cloud{ServerDomain: domain, ServerPort: port, Backups: backups, Keepalive: 180, Ping: 60}
}

// waitFor polls cond for up to 10 s of wall time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (d *testDev) state() string { return d.Status().ConnState }

// connStable reports whether the established connection has proved stable
// (flap.go): only then does a loss get the 0–1 s jitter.
func (d *testDev) connStable() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conn != nil && d.conn.stable
}

func (d *testDev) waitState(t testing.TB, want string) {
	t.Helper()
	waitFor(t, "state "+want, func() bool { return d.state() == want })
}

// settle waits until the state machine sleeps on the fake clock in state.
func (d *testDev) settle(t testing.TB, state string, timers int) {
	t.Helper()
	waitFor(t, "settled in "+state, func() bool { return d.state() == state && d.clk.Pending() >= timers })
}

// quiesce waits until the number of armed fake timers has stayed the same
// for a few polls: the code under test has gone back to sleep.
func (d *testDev) quiesce(t testing.TB) {
	t.Helper()
	last, same := -1, 0
	deadline := time.Now().Add(10 * time.Second)
	for same < 4 {
		if time.Now().After(deadline) {
			t.Fatal("never quiesced")
		}
		time.Sleep(3 * time.Millisecond)
		n := d.clk.Pending()
		if n == last && n > 0 {
			same++
		} else {
			same = 0
		}
		last = n
	}
}

// advance moves the fake clock and lets the device react.
func (d *testDev) advance(t testing.TB, dur time.Duration) {
	t.Helper()
	d.clk.Advance(dur)
	d.quiesce(t)
}

func (d *testDev) waitWait(t testing.TB) time.Duration {
	t.Helper()
	d.mu.Lock()
	prev := d.lastWaitSeen
	d.mu.Unlock()
	var w time.Duration
	waitFor(t, "a new wait", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.nextAttempt.Equal(prev) || d.status.ConnState != "Waiting" {
			return false
		}
		w = d.nextAttempt.Sub(d.clk.Now())
		d.lastWaitSeen = d.nextAttempt
		return true
	})
	return w
}

// countArmed is how many armed timers are due in exactly d.
func (d *testDev) countArmed(dur time.Duration) int {
	n := 0
	for _, a := range d.clk.Armed() {
		if a == dur {
			n++
		}
	}
	return n
}

// keepaliveTick moves the clock one keepalive interval ka and waits until
// the device has handled it: the controller got the keepalive it sends and
// the timer is armed again (as many timers due in ka as before: the ping's
// and the sub-connections' may share the interval). quiesce cannot tell:
// the count of armed timers is the same before the device reacts as after.
// No other timer may be due in 2·ka (telemetry: make it hourly).
func (d *testDev) keepaliveTick(t testing.TB, c *ctrl, ka time.Duration) {
	t.Helper()
	n, armed := c.Devices()[0].Keepalives, d.countArmed(ka)
	d.clk.Advance(ka)
	waitFor(t, "the keepalive tick handled", func() bool {
		return c.Devices()[0].Keepalives == n+1 && d.countArmed(ka) == armed
	})
}

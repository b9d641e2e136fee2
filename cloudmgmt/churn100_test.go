package cloudmgmt

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// openFDs counts this process's open file descriptors (/proc/self/fd; the
// directory's own descriptor is in every count alike).
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// warmNetpoll makes the runtime create its netpoller descriptors (epoll +
// wake-up fd) before a baseline is taken: they stay open for the life of
// the process and are not a leak of the code under test.
func warmNetpoll(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	testTLS(t) // CA and certificates on disk, once per process
}

// settleTo waits (bounded, wall time) until count() ≤ want; it returns the
// last count.
func settleTo(want int, count func() int, within time.Duration) int {
	deadline := time.Now().Add(within)
	n := count()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n = count()
	}
	return n
}

func stackDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// steady waits until the device is Established with both sub-connections up
// on c and nothing left to acknowledge.
func steady(t *testing.T, d *testDev, c *ctrl) {
	t.Helper()
	waitFor(t, "steady state", func() bool {
		if d.state() != "Established" || !d.connStable() || d.PendingReports("log") != 0 || d.PendingReports("telemetry") != 0 {
			return false
		}
		for _, di := range c.Devices() {
			if di.Serial == "SN1" {
				return di.Connected && len(di.Subconns) == 2
			}
		}
		return false
	})
}

// TestChurn100 kills and restarts the controller 100 times. Even cycles
// restart it within the 0–1 s post-down jitter; odd cycles let the device
// fail a whole pass first and restart it during the backoff. Measured:
//   - the device ends Established;
//   - while still connected, goroutines and open fds are back to what they
//     were after the first establishment (no per-cycle growth);
//   - after Run returns and the controller stops, both are back to the
//     process baseline taken before the test.
func TestChurn100(t *testing.T) {
	const cycles = 100
	warmNetpoll(t)
	time.Sleep(50 * time.Millisecond) // let goroutines of earlier tests in this process wind down
	gBase := runtime.NumGoroutine()
	fBase := openFDs(t)
	start := time.Now()

	c := startCtrl(t, 0)
	port := c.Port
	d := establish(t, c, nil, nil)
	steady(t, d, c)
	// Steady-state reference: poll until two reads agree (controller-side
	// goroutines of the auth/register HTTP connections wind down).
	g1, f1 := runtime.NumGoroutine(), openFDs(t)
	for i := 0; i < 50; i++ {
		time.Sleep(10 * time.Millisecond)
		g, f := runtime.NumGoroutine(), openFDs(t)
		if g == g1 && f == f1 {
			break
		}
		g1, f1 = g, f
	}

	for i := 0; i < cycles; i++ {
		c.stop()
		if i%3 == 0 {
			d.Report("log", map[string]any{"i": i})
		}
		w := d.waitWait(t) // the 0–1 s jitter (Rand 0.5 → 500 ms)
		if i%2 == 1 {
			// Let the whole pass fail: the device backs off.
			d.clk.Advance(w)
			w = d.waitWait(t)
			if w < 5*time.Second {
				t.Fatalf("cycle %d: backoff %v after a failed pass", i, w)
			}
		}
		c = startCtrl(t, port)
		d.clk.Advance(w)
		// may need a backoff pass if the listener was not ready yet
		waitFor(t, "re-established", func() bool {
			if d.state() == "Waiting" {
				d.clk.Advance(200 * time.Second)
			}
			return d.state() == "Established"
		})
		// the next loss must meet a stable connection (0–1 s jitter)
		waitFor(t, "a stable connection", d.connStable)
	}
	steady(t, d, c)
	if s := d.Status(); s.ConnState != "Established" || s.TotalDropped != 0 {
		t.Fatalf("after %d cycles: %s, dropped %d", cycles, s.ConnState, s.TotalDropped)
	}
	g2 := settleTo(g1, runtime.NumGoroutine, 5*time.Second)
	f2 := settleTo(f1, func() int { return openFDs(t) }, 5*time.Second)
	t.Logf("connected: goroutines %d after first establishment, %d after %d cycles; fds %d / %d",
		g1, g2, cycles, f1, f2)
	if g2 > g1 {
		t.Fatalf("goroutines grew while connected: %d > %d\n%s", g2, g1, stackDump())
	}
	if f2 > f1 {
		t.Fatalf("open fds grew while connected: %d > %d", f2, f1)
	}

	d.stop()
	c.stop()
	g3 := settleTo(gBase, runtime.NumGoroutine, 5*time.Second)
	f3 := settleTo(fBase, func() int { return openFDs(t) }, 5*time.Second)
	t.Logf("%d cycles in %v; after stop: goroutines %d (baseline %d), fds %d (baseline %d)",
		cycles, time.Since(start).Round(time.Millisecond), g3, gBase, f3, fBase)
	if g3 > gBase {
		t.Fatalf("goroutines %d > baseline %d\n%s", g3, gBase, stackDump())
	}
	if f3 > fBase {
		t.Fatalf("open fds %d > baseline %d", f3, fBase)
	}
}

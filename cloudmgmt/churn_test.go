package cloudmgmt

import (
	"runtime"
	"testing"
	"time"
)

// TestChurn kills and restarts the controller 30 times; the device ends
// Established and every goroutine it started is gone after Run returns.
func TestChurn(t *testing.T) {
	base := runtime.NumGoroutine()
	c := startCtrl(t, 0)
	port := c.Port
	d := establish(t, c, nil, nil)
	for i := 0; i < 30; i++ {
		c.stop()
		if i%3 == 0 {
			d.Report("log", map[string]any{"i": i})
		}
		w := d.waitWait(t)
		c = startCtrl(t, port)
		d.clk.Advance(w)
		// may need a backoff pass if the listener was not ready yet
		waitFor(t, "re-established", func() bool {
			if d.state() == "Waiting" {
				d.clk.Advance(200 * time.Second)
			}
			return d.state() == "Established"
		})
	}
	waitFor(t, "reports acked", func() bool { return d.PendingReports("log") == 0 })
	d.stop()
	c.stop()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines %d > baseline %d\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

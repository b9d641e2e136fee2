package cloudmgmt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/clock"
)

// TestManyDevices: one controller serves 200 devices at once.
func TestManyDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 200
	var serials []string
	for i := 0; i < n; i++ {
		serials = append(serials, fmt.Sprintf("SN%04d", i))
	}
	c := startCtrl(t, 0, serials...)
	_, pool := testTLS(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	clients := make([]*Client, n)
	start := time.Now()
	for i := range clients {
		cl := New(Options{Serial: serials[i], RootCAs: pool, Clock: clock.Real{}, ResolvConf: "/nonexistent"})
		cl.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
		clients[i] = cl
		wg.Add(1)
		go func() { defer wg.Done(); cl.Run(ctx) }()
	}
	// 200 TLS handshakes under -race on a loaded machine take a while:
	// wait as long as devices keep arriving, and fail only when they stop.
	waitProgress(t, "all established", n, func() int {
		k := 0
		for _, cl := range clients {
			if cl.Status().ConnState == "Established" {
				k++
			}
		}
		return k
	})
	t.Logf("%d devices established in %v", n, time.Since(start))
	waitProgress(t, "controller sees all", n, func() int {
		k := 0
		for _, d := range c.Devices() {
			if d.Connected && len(d.Subconns) == 2 {
				k++
			}
		}
		return k
	})
	cancel()
	wg.Wait()
}

// waitProgress waits until count() reaches want. It fails when the count
// has not grown for 20 s, or after 5 minutes in all.
func waitProgress(t testing.TB, what string, want int, count func() int) {
	t.Helper()
	const stall, limit = 20 * time.Second, 5 * time.Minute
	start := time.Now()
	best, bestAt := -1, start
	for {
		k := count()
		if k >= want {
			return
		}
		now := time.Now()
		if k > best {
			best, bestAt = k, now
		}
		if now.Sub(bestAt) > stall || now.Sub(start) > limit {
			t.Fatalf("waiting for %s: %d of %d after %v, none more in the last %v", what, best, want, now.Sub(start).Round(time.Second), now.Sub(bestAt).Round(time.Second))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

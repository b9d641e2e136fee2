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
	waitFor(t, "all established", func() bool {
		for _, cl := range clients {
			if cl.Status().ConnState != "Established" {
				return false
			}
		}
		return true
	})
	t.Logf("%d devices established in %v", n, time.Since(start))
	waitFor(t, "controller sees all", func() bool {
		k := 0
		for _, d := range c.Devices() {
			if d.Connected && len(d.Subconns) == 2 {
				k++
			}
		}
		return k == n
	})
	cancel()
	wg.Wait()
}

package cloudmgmt

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

// TestTransitionSequence checks the exact state sequence of a first
// connection, a loss and a configuration removal.
func TestTransitionSequence(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := startCtrl(t, 0)
	d := newDev(t, func(o *Options) { o.Zap = zap.New(core) })
	time.Sleep(20 * time.Millisecond) // Run is in Idle: no domain yet
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
	d.waitState(t, "Established")
	// The device is Established on the 101; the controller records the
	// connection a moment later, and only then can it close it.
	waitFor(t, "the controller to hold the main connection", func() bool { return c.connected("SN1") })
	if err := c.Inject("SN1", "close"); err != nil {
		t.Fatal(err)
	}
	d.clk.Advance(d.waitWait(t))
	d.waitState(t, "Established")
	d.SetConfig(cloudCfg("", c.Port), nil, hosts("cloud.test"))
	d.waitState(t, "Idle")
	time.Sleep(10 * time.Millisecond)
	var seq []string
	for _, e := range logs.FilterMessage("transition").All() {
		m := e.ContextMap()
		if len(seq) == 0 {
			seq = append(seq, m["from"].(string))
		}
		seq = append(seq, m["to"].(string))
	}
	want := "Idle Resolving Connecting Authenticating Registering Upgrading Established " +
		"Waiting Resolving Connecting Authenticating Registering Upgrading Established Idle"
	if got := strings.Join(seq, " "); got != want {
		t.Fatalf("transitions\n got %s\nwant %s", got, want)
	}
}

func TestLabPlainMode(t *testing.T) {
	srv := controller.New(controller.Config{Serials: []string{"SN1"}, Plain: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln, nil) }()
	defer func() { cancel(); <-done }()
	d := newDev(t, func(o *Options) { o.LabPlainWS = true })
	d.SetConfig(cloudCfg("cloud.test", ln.Addr().(*net.TCPAddr).Port), nil, hosts("cloud.test"))
	d.waitState(t, "Established")
	if s := d.Status(); s.Mode != "Http" {
		t.Fatal(s.Mode)
	}
	waitFor(t, "subconns", func() bool { return len(srv.Devices()[0].Subconns) == 2 })
	d.stop()
}

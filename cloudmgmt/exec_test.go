package cloudmgmt

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
)

// gate is an Exec that holds every call until the test releases it (one
// value on release per call, or close) or the call's context ends.
type gate struct {
	release             chan struct{}
	started             atomic.Int32
	running, maxRunning atomic.Int32
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) exec(ctx context.Context, lines []string) (string, bool) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for m := g.maxRunning.Load(); n > m && !g.maxRunning.CompareAndSwap(m, n); m = g.maxRunning.Load() {
	}
	g.started.Add(1)
	select {
	case <-g.release:
		return "done " + lines[0] + "\n", true
	case <-ctx.Done():
		return "stopped " + lines[0] + "\n", true
	}
}

// flood runs ExecFlood in the background; the result arrives on the channel.
func flood(t *testing.T, c *ctrl, count int) <-chan controller.FloodResult {
	t.Helper()
	waitFor(t, "the controller holds the connection", func() bool { return c.connected("SN1") })
	res := make(chan controller.FloodResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := c.ExecFlood(ctx, "SN1", []string{"display x"}, count)
		if err != nil {
			r.Error = err.Error()
		}
		res <- r
	}()
	return res
}

func wait[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// heldBackWith waits until the device's reader is held back by a full
// exec queue after reading taken execs off the connection, and checks it
// read no more.
func (d *testDev) heldBackWith(t *testing.T, taken uint64) {
	t.Helper()
	waitFor(t, "the reader held back by a full queue", func() bool {
		q := d.execQ.Load()
		return q != nil && q.stalls.Load()%2 == 1 && q.taken.Load() >= taken
	})
	if n := d.execQ.Load().taken.Load(); n != taken {
		t.Fatalf("the device read %d execs while its queue was full, want %d", n, taken)
	}
}

func checkFlood(t *testing.T, r controller.FloodResult, n, ok int, first string) {
	t.Helper()
	if r.Error != "" || r.Sent != n || r.Answered != n || !r.InOrder || r.OK != ok || r.FirstOutput != first {
		t.Fatalf("flood of %d: %+v", n, r)
	}
}

func TestExecsRunOneAtATimeInOrder(t *testing.T) {
	c := startCtrl(t, 0)
	var running, maxRunning, calls atomic.Int32
	d := establish(t, c, func(o *Options) {
		o.Exec = func(ctx context.Context, lines []string) (string, bool) {
			n := running.Add(1)
			defer running.Add(-1)
			if n > maxRunning.Load() {
				maxRunning.Store(n)
			}
			calls.Add(1)
			return "<dev>" + strings.Join(lines, "|") + "\n", true
		}
	}, nil)
	const n = 500
	checkFlood(t, wait(t, "the flood", flood(t, c, n)), n, n, "<dev>display x\n")
	if calls.Load() != n || maxRunning.Load() != 1 {
		t.Fatalf("%d calls, at most %d at a time", calls.Load(), maxRunning.Load())
	}
	// single execs still work beside the queue's bookkeeping
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r, err := c.Exec(ctx, "SN1", []string{"display version"}); err != nil || r.Output != "<dev>display version\n" {
		t.Fatal(r, err)
	}
	if d.state() != "Established" {
		t.Fatal(d.Status().LastDownReason)
	}
}

// TestExecQueueFullStopsReading: with the running exec held, the device
// reads exactly 1 + ExecQueueLen execs and then nothing; each exec that
// ends lets exactly one more frame in.
func TestExecQueueFullStopsReading(t *testing.T) {
	c := startCtrl(t, 0)
	g := newGate()
	d := establish(t, c, func(o *Options) { o.Exec = g.exec }, nil)
	const n = 40
	res := flood(t, c, n)
	d.heldBackWith(t, 1+ExecQueueLen)
	for k := uint64(1); k <= 3; k++ {
		g.release <- struct{}{}
		d.heldBackWith(t, 1+ExecQueueLen+k)
	}
	if g.started.Load() != 4 || g.maxRunning.Load() != 1 {
		t.Fatalf("%d execs started, at most %d at a time", g.started.Load(), g.maxRunning.Load())
	}
	close(g.release)
	checkFlood(t, wait(t, "the flood", res), n, n, "done display x\n")
	q := d.execQ.Load()
	waitFor(t, "the reader free again", func() bool { return q.stalls.Load()%2 == 0 })
	if q.taken.Load() != n {
		t.Fatalf("taken %d", q.taken.Load())
	}
	if d.state() != "Established" {
		t.Fatal(d.Status().LastDownReason)
	}
}

// TestExecTimeLimit: an exec still running after ExecTimeout (on the
// device's clock) is stopped through its context; its answer is what it
// printed plus a note, ok false; the next exec runs normally.
func TestExecTimeLimit(t *testing.T) {
	c := startCtrl(t, 0)
	g := newGate()
	d := establish(t, c, func(o *Options) { o.Exec = g.exec }, nil)
	waitFor(t, "the controller holds the connection", func() bool { return c.connected("SN1") })
	res := make(chan controller.ExecResult, 1)
	go func() {
		r, err := c.Exec(context.Background(), "SN1", []string{"hang"})
		if err != nil {
			r.Output = err.Error()
		}
		res <- r
	}()
	waitFor(t, "the exec started", func() bool { return g.started.Load() == 1 })
	d.advance(t, DefaultExecTimeout-time.Second)
	select {
	case r := <-res:
		t.Fatalf("answered before the limit: %+v", r)
	default:
	}
	d.advance(t, time.Second)
	r := wait(t, "the stopped exec", res)
	if want := "stopped hang\n" + timeLimitNote(DefaultExecTimeout); r.OK || r.Output != want {
		t.Fatalf("got %+v, want %q", r, want)
	}
	if !strings.HasSuffix(r.Output, "% Execution stopped: the time limit of 60 s was reached.\n") {
		t.Fatalf("note %q", r.Output)
	}
	close(g.release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r, err := c.Exec(ctx, "SN1", []string{"next"}); err != nil || !r.OK || r.Output != "done next\n" {
		t.Fatal(r, err)
	}
}

// TestHeldBackReaderIsNotADeadPeer: keepalive and ping every 10 s, execs
// that each run into the 60 s limit, more than the queue holds. The
// keepalive-acks and Pongs wait unread behind the execs for minutes, far
// over 3 intervals; the connection stays up, and once the queue drained
// the dead-peer rules count again.
func TestHeldBackReaderIsNotADeadPeer(t *testing.T) {
	c := startCtrl(t, 0)
	g := newGate()
	d := establish(t, c, func(o *Options) { o.Exec = g.exec; o.TelemetryInterval = time.Hour },
		func(cc *config.Cloud) { cc.Keepalive, cc.Ping = 10, 10 })
	const n = ExecQueueLen + 3
	res := flood(t, c, n)
	d.heldBackWith(t, 1+ExecQueueLen)
	var r controller.FloodResult
	// n execs × 60 s, in keepalive intervals (a few more if the runner
	// armed a limit only after the clock moved on)
	for i := 1; ; i++ {
		d.advance(t, 10*time.Second)
		if s := d.Status(); s.ConnState != "Established" {
			t.Fatalf("after %d s: %s (%s)", i*10, s.ConnState, s.LastDownReason)
		}
		if i < n*6 {
			continue
		}
		select {
		case r = <-res:
		default:
			if i > n*6+30 {
				t.Fatalf("flood not answered after %d s", i*10)
			}
			continue
		}
		break
	}
	checkFlood(t, r, n, 0, "stopped display x\n"+timeLimitNote(DefaultExecTimeout))
	if s := d.Status(); s.LastDownReason != "" {
		t.Fatal(s.LastDownReason)
	}
	c.SetFaults(controller.Faults{DropKeepaliveAcks: true})
	d.keepaliveTick(t, c, 10*time.Second) // the acks read after the flood count for this interval
	for i := 1; i <= 2; i++ {
		d.keepaliveTick(t, c, 10*time.Second)
	}
	d.clk.Advance(10 * time.Second) // the third interval without an ack ends it
	d.waitWait(t)
	if s := d.Status(); s.LastDownReason != "keepalive timeout (Details:no keepalive-ack for 3 intervals of 10s)" {
		t.Fatal(s.LastDownReason)
	}
}

// TestExecQueueEndsWithConnection: a connection that drops with execs
// running and queued ends them all before the state is left. The reader,
// held back, does not see the controller's Close; the next keepalive or
// Ping written to the closed socket fails instead.
func TestExecQueueEndsWithConnection(t *testing.T) {
	c := startCtrl(t, 0)
	g := newGate()
	d := establish(t, c, func(o *Options) { o.Exec = g.exec; o.ExecTimeout = time.Hour },
		func(cc *config.Cloud) { cc.Keepalive, cc.Ping = 10, 10 })
	res := flood(t, c, 20)
	d.heldBackWith(t, 1+ExecQueueLen)
	q := d.execQ.Load()
	if err := c.Inject("SN1", "close"); err != nil {
		t.Fatal(err)
	}
	for i := 0; d.state() == "Established"; i++ {
		if i == 10 {
			t.Fatal("still Established 100 s after the controller closed")
		}
		d.advance(t, 10*time.Second)
	}
	d.waitWait(t) // Established left: its goroutines were joined
	q.mu.Lock()
	running, waiting := q.running, len(q.waiting)
	q.mu.Unlock()
	if running || waiting != 0 || g.running.Load() != 0 || g.started.Load() != 1 {
		t.Fatalf("runner %v, %d waiting, %d execs running, %d started", running, waiting, g.running.Load(), g.started.Load())
	}
	if r := wait(t, "the flood", res); r.Error != "connection closed" || r.Answered != 0 {
		t.Fatalf("%+v", r)
	}
	waitFor(t, "the closed connection's queue dropped", func() bool { return d.execQ.Load() == nil })
	t.Logf("down reason: %s", d.Status().LastDownReason)
}

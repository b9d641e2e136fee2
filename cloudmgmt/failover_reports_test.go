package cloudmgmt

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
)

// trackListener remembers every accepted TCP connection so that a
// controller can be killed the hard way: connections reset (RST, no TLS
// close_notify, no WebSocket Close frame), new ones refused.
type trackListener struct {
	net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func (l *trackListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.killed {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.conns = append(l.conns, c)
		l.mu.Unlock()
		return c, nil
	}
}

func (l *trackListener) kill() {
	l.mu.Lock()
	l.killed = true
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	l.Listener.Close()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

// kctrl is startCtrl with a killable listener.
type kctrl struct {
	*ctrl
	tl *trackListener
}

func startKillable(t testing.TB, port int) *kctrl {
	t.Helper()
	dir, _ := testTLS(t)
	srv := controller.New(controller.Config{Serials: []string{"SN1"}})
	tc, err := controller.EnsureTLS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; i < 100; i++ {
		ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil || port == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	tl := &trackListener{Listener: ln}
	ctx, cancel := context.WithCancel(context.Background())
	c := &ctrl{Server: srv, Port: ln.Addr().(*net.TCPAddr).Port, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(c.done); srv.Serve(ctx, tl, tc) }()
	t.Cleanup(c.stop)
	return &kctrl{ctrl: c, tl: tl}
}

// closeGracefully is a maintenance shutdown: auth refused from now on (so
// the device's same-server retry fails and it moves on), a Close frame
// (1001) on the main connection, then the server stops (sub-connections
// closed, goroutines joined).
func (k *kctrl) closeGracefully() {
	k.SetFaults(controller.Faults{RejectAuth: 503})
	k.CloseDevice("SN1")
	k.stop()
}

// killHard resets every TCP connection of the controller at once.
func (k *kctrl) killHard() {
	k.tl.kill()
	k.stop()
}

// reportKey is what a report's data carries: the sender's own sequence.
const reportKey = "test_n"

// TestFailoverReportsNotLost forces 100 failovers across three in-process
// TLS controllers (primary, backup1, backup2) while reports of both services
// are sent continuously, and checks that none is lost: the union of what the
// controller instances received, after their per-session de-dup, is exactly
// the set sent.
//
// Options.Rand returns 0, so the 0–1 s post-down jitter is 0 and a failover
// needs no fake-clock movement at all (a zero fake timer fires at once): the
// run is fast and every failover time below is real work (detect the loss,
// retry the same server, fail, connect to the next one).
//
// Kills alternate: even cycles close the controller gracefully (Close frame,
// then stop), odd cycles kill it (TCP RST on every connection). The killed
// controller is restarted on its port (a fresh instance, no memory of
// reports) before the next cycle, so the list keeps working; without
// preemption the device stays on the one it landed on: P → B1 → B2 → P …
//
// The sender never lets a buffer hold more than maxPending unacknowledged
// reports (far under the 1,024 buffer), so no drop is legitimate:
// Status().TotalDropped must be 0.
func TestFailoverReportsNotLost(t *testing.T) {
	const (
		failovers  = 100
		maxPending = 256
	)
	svcs := []string{"telemetry", "log"}
	names := []string{"primary.test", "backup1.test", "backup2.test"}

	var (
		allMu sync.Mutex
		all   []*kctrl // every controller instance ever started
	)
	start := func(port int) *kctrl {
		k := startKillable(t, port)
		allMu.Lock()
		all = append(all, k)
		allMu.Unlock()
		return k
	}
	cur := []*kctrl{start(0), start(0), start(0)}
	ports := []int{cur[0].Port, cur[1].Port, cur[2].Port}

	// Rand 0: zero jitter (see above); also the smallest sub-connection backoff.
	d := establish(t, cur[0].ctrl, func(o *Options) { o.Rand = func() float64 { return 0 } },
		func(cc *config.Cloud) {
			cc.ServerDomain, cc.ServerPort = names[0], ports[0]
			cc.Backups = []config.Backup{{Domain: names[1], Port: ports[1]}, {Domain: names[2], Port: ports[2]}}
		})

	// Sender: one goroutine, both services in turn, data {test_n: n} with n
	// counting per service from 1.
	var (
		sent       [2]atomic.Int64
		maxSeen    atomic.Int64
		stopSend   = make(chan struct{})
		senderDone = make(chan struct{})
	)
	go func() {
		defer close(senderDone)
		for {
			select {
			case <-stopSend:
				return
			default:
			}
			for i, svc := range svcs {
				p := d.PendingReports(svc)
				if int64(p) > maxSeen.Load() {
					maxSeen.Store(int64(p))
				}
				if p >= maxPending {
					continue
				}
				n := sent[i].Add(1)
				d.Report(svc, map[string]any{reportKey: n})
			}
			time.Sleep(500 * time.Microsecond)
		}
	}()

	// received reports of this instance's current session
	recvAt := func(k *kctrl, svc string) uint64 {
		sum, _ := k.Reports("SN1", svc)
		return sum.Received
	}

	on := 0
	var times []time.Duration
	graceful, hard := 0, 0
	downReasons := map[string]int{}
	nudges := 0 // fake-clock moves needed for a sub-connection backoff
	for i := 0; i < failovers; i++ {
		next := (on + 1) % 3
		// Reports flow on the current controller before we pull it.
		since := time.Now()
		waitFor(t, "reports on "+names[on], func() bool {
			if time.Since(since) > 2*time.Second {
				// A sub-connection that failed waits out its backoff on the
				// fake clock (design, not loss): move the clock past it.
				d.clk.Advance(2 * time.Second)
				nudges++
				since = time.Now()
			}
			return cur[on].connected("SN1") && d.connStable() && recvAt(cur[on], "log") > 0 && recvAt(cur[on], "telemetry") > 0
		})
		t0 := time.Now()
		if i%2 == 0 {
			cur[on].closeGracefully()
			graceful++
		} else {
			cur[on].killHard()
			hard++
		}
		waitFor(t, "failover to "+names[next], func() bool { return cur[next].connected("SN1") })
		times = append(times, time.Since(t0))
		s := d.Status()
		if s.ServerDomain != names[next] {
			t.Fatalf("failover %d: on %q, want %q", i+1, s.ServerDomain, names[next])
		}
		// The two ways of losing the controller are really different: only
		// the graceful one carries a Close frame (1001); a hard kill is a
		// socket loss (docs/protocol.md).
		want := "socket connection error (Details:"
		if i%2 == 0 {
			want = "server closed connection (Details:close 1001"
		}
		if !strings.HasPrefix(s.LastDownReason, want) {
			t.Errorf("failover %d: last down reason %q, want %q…", i+1, s.LastDownReason, want)
		}
		downReasons[s.LastDownReason]++
		cur[on] = start(ports[on]) // fresh instance on the same port
		on = next
	}

	// Stop sending; everything must be acknowledged by the last controller.
	close(stopSend)
	<-senderDone
	waitFor(t, "all reports acknowledged", func() bool {
		return d.state() == "Established" && d.PendingReports("log") == 0 && d.PendingReports("telemetry") == 0
	})
	st := d.Status()

	// Union over every controller instance.
	var totalSent, totalUnique, totalDups int64
	for i, svc := range svcs {
		lastSeq := func() uint64 {
			b := d.bufs[svc]
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.seq
		}()
		seqSeen := make(map[uint64]int)
		nSeen := make(map[int64]int)
		var received, ctrlDups uint64
		allMu.Lock()
		insts := slices.Clone(all)
		allMu.Unlock()
		for ii, k := range insts {
			sum, reps := k.Reports("SN1", svc)
			received += sum.Received
			ctrlDups += sum.Duplicates
			if uint64(len(reps)) != sum.Received {
				t.Fatalf("%s instance %d: kept %d of %d reports (KeepReports too small)", svc, ii, len(reps), sum.Received)
			}
			var prevSeq uint64
			var prevN int64
			for j, r := range reps {
				// In order and without a gap within one controller session.
				if j > 0 && r.Seq != prevSeq+1 {
					t.Errorf("%s instance %d: seq %d after %d", svc, ii, r.Seq, prevSeq)
				}
				prevSeq = r.Seq
				seqSeen[r.Seq]++
				dec := json.NewDecoder(strings.NewReader(string(r.Data)))
				dec.UseNumber()
				var raw map[string]any
				if err := dec.Decode(&raw); err != nil {
					t.Fatalf("%s seq %d: data %s: %v", svc, r.Seq, r.Data, err)
				}
				v, ok := raw[reportKey].(json.Number)
				if !ok {
					continue // telemetry generated by the client itself
				}
				n, err := v.Int64()
				if err != nil {
					t.Fatal(err)
				}
				if n <= prevN {
					t.Errorf("%s instance %d: %s %d after %d", svc, ii, reportKey, n, prevN)
				}
				prevN = n
				nSeen[n]++
			}
		}
		ns := sent[i].Load()
		// Every report the test sent, exactly once after de-dup.
		var missing []int64
		for n := int64(1); n <= ns; n++ {
			if nSeen[n] == 0 {
				missing = append(missing, n)
			}
		}
		if len(nSeen) != int(ns) || len(missing) > 0 {
			if len(missing) > 20 {
				missing = missing[:20]
			}
			t.Errorf("%s: sent %d, received %d distinct; missing (first 20) %v", svc, ns, len(nSeen), missing)
		}
		// And every wire seq the client assigned (its own telemetry too).
		for s := uint64(1); s <= lastSeq; s++ {
			if seqSeen[s] == 0 {
				t.Errorf("%s: wire seq %d of %d never received", svc, s, lastSeq)
				break
			}
		}
		if uint64(len(seqSeen)) != lastSeq {
			t.Errorf("%s: %d distinct wire seqs received, client assigned %d", svc, len(seqSeen), lastSeq)
		}
		dups := int64(received+ctrlDups) - int64(len(seqSeen))
		t.Logf("%s: sent %d (+%d generated), received %d, lost %d, duplicates before de-dup %d (%d across instances, %d within one)",
			svc, ns, lastSeq-uint64(ns), len(nSeen), ns-int64(len(nSeen)), dups, int64(received)-int64(len(seqSeen)), ctrlDups)
		totalSent += ns
		totalUnique += int64(len(nSeen))
		totalDups += dups
	}
	if st.TotalDropped != 0 || st.DroppedAfterLimit != 0 {
		t.Errorf("dropped: total %d, after limit %d", st.TotalDropped, st.DroppedAfterLimit)
	}

	for r, n := range downReasons {
		t.Logf("down reason ×%d: %s", n, r)
	}
	slices.Sort(times)
	t.Logf("reports sent %d, received %d, lost %d, duplicates before de-dup %d", totalSent, totalUnique,
		totalSent-totalUnique, totalDups)
	t.Logf("%d failovers (%d graceful close, %d hard kill) over %d controller instances: failover time median %v, max %v, min %v; max pending %d; fake-clock nudges %d",
		failovers, graceful, hard, len(all), times[len(times)/2].Round(time.Microsecond),
		times[len(times)-1].Round(time.Microsecond), times[0].Round(time.Microsecond), maxSeen.Load(), nudges)
}

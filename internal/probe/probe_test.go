package probe

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/device"
)

// requireRawSocket: raw ICMP sockets need CAP_NET_RAW; a skip on a
// developer's machine, a failure in CI.
func requireRawSocket(t *testing.T) {
	t.Helper()
	c, err := listenRawICMP(netip.Addr{})
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing in CI: a raw ICMP socket: %v", err)
	}
	t.Skipf("prerequisite missing: a raw ICMP socket: %v", err)
}

var loopback = netip.MustParseAddr("127.0.0.1")

// receive takes the one value from ch, failing the test after 10 s rather
// than hanging until go test's timeout.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing came in 10 s")
		panic("unreachable")
	}
}

func collect[T any](ch <-chan T) []T {
	var out []T
	for v := range ch {
		out = append(out, v)
	}
	return out
}

func TestPingLoopback(t *testing.T) {
	requireRawSocket(t)
	p := New(Options{})
	ch, err := p.Ping(context.Background(), device.PingRequest{Dest: loopback, Count: 3, Size: 100, Timeout: 2 * time.Second, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	replies := collect(ch)
	if len(replies) != 3 {
		t.Fatalf("%d replies: %+v", len(replies), replies)
	}
	for i, r := range replies {
		if r.Seq != i || r.Timeout || r.Error != "" || r.From != loopback || r.Bytes != 100 || r.TTL != 64 || r.RTT <= 0 || r.RTT > time.Second {
			t.Errorf("reply %d: %+v", i, r)
		}
	}
}

// Two pings at once each get their own replies (the raw sockets see both).
func TestConcurrentPingsKeepTheirReplies(t *testing.T) {
	requireRawSocket(t)
	p := New(Options{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := p.Ping(context.Background(), device.PingRequest{Dest: loopback, Count: 5, Size: 56, Timeout: 2 * time.Second})
			if err != nil {
				t.Error(err)
				return
			}
			for i, r := range collect(ch) {
				if r.Seq != i || r.Timeout {
					t.Errorf("reply %d: %+v", i, r)
				}
			}
		}()
	}
	wg.Wait()
}

func TestTraceLoopback(t *testing.T) {
	requireRawSocket(t)
	p := New(Options{})
	ch, err := p.Trace(context.Background(), device.TracertRequest{Dest: loopback, Probes: 3, Timeout: 2 * time.Second, FirstTTL: 1, MaxTTL: 30})
	if err != nil {
		t.Fatal(err)
	}
	probes := collect(ch)
	if len(probes) != 3 {
		t.Fatalf("%d probes: %+v", len(probes), probes)
	}
	for i, pr := range probes {
		if pr.TTL != 1 || pr.Index != i || pr.Timeout || pr.From != loopback || pr.Note != "" || pr.Last != (i == 2) {
			t.Errorf("probe %d: %+v", i, pr)
		}
	}
}

func TestSourceMustBeLocal(t *testing.T) {
	requireRawSocket(t)
	_, err := New(Options{}).Ping(context.Background(), device.PingRequest{Dest: loopback, Source: netip.MustParseAddr("192.0.2.77"), Count: 1})
	if !errors.Is(err, ErrSourceNotLocal) {
		t.Errorf("source 192.0.2.77: %v", err)
	}
}

// fakeICMP is a raw socket that answers through respond (nil: never).
type fakeICMP struct {
	mu      sync.Mutex
	in      chan fakePacket
	closed  chan struct{}
	once    sync.Once
	respond func(f *fakeICMP, b []byte, dst netip.Addr)
	sent    int
}

type fakePacket struct {
	b   []byte
	src netip.Addr
}

func newFakeICMP(respond func(*fakeICMP, []byte, netip.Addr)) *fakeICMP {
	return &fakeICMP{in: make(chan fakePacket, 16), closed: make(chan struct{}), respond: respond}
}

func (f *fakeICMP) WriteTo(b []byte, dst netip.Addr) error {
	f.mu.Lock()
	f.sent++
	f.mu.Unlock()
	if f.respond != nil {
		f.respond(f, b, dst)
	}
	return nil
}

func (f *fakeICMP) ReadFrom(b []byte) (int, int, netip.Addr, time.Time, error) {
	select {
	case pk := <-f.in:
		return copy(b, pk.b), 60, pk.src, time.Time{}, nil
	case <-f.closed:
		return 0, 0, netip.Addr{}, time.Time{}, errors.New("closed")
	}
}

func (f *fakeICMP) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *fakeICMP) deliver(m icmp.Message, src netip.Addr) {
	b, _ := m.Marshal(nil)
	f.in <- fakePacket{b: b, src: src}
}

func waitPending(t *testing.T, clk *clock.Fake, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for clk.Pending() < n {
		if time.Now().After(deadline) {
			t.Fatalf("never %d timers pending", n)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// waitArmed waits until the only armed timer is one due in d: the code
// under test is in the sleep the test means to end. (A reply's timeout is
// armed until the receiving goroutine has handed the reply over; advancing
// then would end the wrong sleep.)
func waitArmed(t *testing.T, clk *clock.Fake, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		armed := clk.Armed()
		if len(armed) == 1 && armed[0] == d {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("armed timers %v, want one due in %v", armed, d)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// A request nobody answers times out on the clock; replies with another
// identifier, sequence or source are not ours.
func TestPingTimeoutAndForeignReplies(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	dest, other := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")
	conn := newFakeICMP(func(f *fakeICMP, b []byte, dst netip.Addr) {
		m, _ := icmp.ParseMessage(1, b)
		e := m.Body.(*icmp.Echo)
		if e.Seq == 1 {
			return // lost
		}
		f.deliver(icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: &icmp.Echo{ID: e.ID + 1, Seq: e.Seq, Data: e.Data}}, dst)
		f.deliver(icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: &icmp.Echo{ID: e.ID, Seq: e.Seq, Data: e.Data}}, other)
		f.deliver(icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: &icmp.Echo{ID: e.ID, Seq: e.Seq, Data: e.Data}}, dst)
	})
	p := New(Options{Clock: clk, NewID: func() int { return 0x1234 }, listenICMP: func(netip.Addr) (icmpConn, error) { return conn, nil }})
	ch, err := p.Ping(context.Background(), device.PingRequest{Dest: dest, Count: 3, Size: 20, Timeout: 2 * time.Second, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []device.PingReply)
	go func() { got <- collect(ch) }()
	// seq 0 answered → interval; seq 1 lost → timeout, interval; seq 2 answered.
	for _, step := range []time.Duration{200 * time.Millisecond, 2 * time.Second, 200 * time.Millisecond} {
		waitArmed(t, clk, step)
		clk.Advance(step)
	}
	replies := receive(t, got)
	if len(replies) != 3 || replies[0].Timeout || replies[0].From != dest || replies[0].Bytes != 20 ||
		!replies[1].Timeout || replies[2].Timeout || replies[2].Seq != 2 {
		t.Errorf("replies %+v", replies)
	}
	select {
	case <-conn.closed:
	default:
		t.Error("socket left open")
	}
}

// Cancelling ends the ping at once: no outcome for the request in flight,
// the channel closes, the socket is closed.
func TestPingCancelled(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	conn := newFakeICMP(nil)
	p := New(Options{Clock: clk, listenICMP: func(netip.Addr) (icmpConn, error) { return conn, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := p.Ping(ctx, device.PingRequest{Dest: netip.MustParseAddr("192.0.2.10"), Count: 1000, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	waitPending(t, clk, 1)
	cancel()
	if replies := collect(ch); len(replies) != 0 {
		t.Errorf("replies after cancel: %+v", replies)
	}
	<-conn.closed
}

// Tracert: a router answers time exceeded for TTL 1, the target port
// unreachable for TTL 2; a probe of TTL 1 goes unanswered.
func TestTraceWithFakes(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	dest, router := netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("10.78.0.1")
	conn := newFakeICMP(nil)
	udp := &fakeUDP{port: 40000, onSend: func(ttl int, dst netip.AddrPort, n int) {
		quoted := quote(dst, 40000, n)
		switch {
		case ttl == 1 && dst.Port() == traceBasePort+1:
			// lost
		case ttl == 1:
			conn.deliver(icmp.Message{Type: ipv4.ICMPTypeTimeExceeded, Body: &icmp.TimeExceeded{Data: quoted}}, router)
		default:
			conn.deliver(icmp.Message{Type: ipv4.ICMPTypeDestinationUnreachable, Code: 3, Body: &icmp.DstUnreach{Data: quoted}}, dest)
		}
	}}
	p := New(Options{Clock: clk, listenICMP: func(netip.Addr) (icmpConn, error) { return conn, nil },
		listenUDP: func() (udpSender, error) { return udp, nil }})
	ch, err := p.Trace(context.Background(), device.TracertRequest{Dest: dest, Probes: 3, Timeout: 5 * time.Second, FirstTTL: 1, MaxTTL: 30})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []device.TracertProbe)
	go func() { got <- collect(ch) }()
	// Every probe waits 5 s; the lost one is the second sent. Once it is
	// out, the first probe's wait is over.
	udp.waitSent(t, 2)
	waitArmed(t, clk, 5*time.Second)
	clk.Advance(5 * time.Second) // the lost probe
	probes := receive(t, got)
	if len(probes) != 6 {
		t.Fatalf("%d probes: %+v", len(probes), probes)
	}
	if probes[0].From != router || !probes[1].Timeout || probes[2].From != router || probes[2].Last {
		t.Errorf("hop 1: %+v", probes[:3])
	}
	for i, pr := range probes[3:] {
		if pr.TTL != 2 || pr.From != dest || pr.Note != "" || pr.Last != (i == 2) {
			t.Errorf("hop 2 probe %d: %+v", i, pr)
		}
	}
}

// quote is the start of the datagram an ICMP error quotes: the IPv4
// header and the UDP header of our probe.
func quote(dst netip.AddrPort, srcPort, n int) []byte {
	h := ipv4.Header{Version: 4, Len: 20, TotalLen: 20 + 8 + n, TTL: 1, Protocol: 17,
		Src: netip.MustParseAddr("10.78.0.2").AsSlice(), Dst: dst.Addr().AsSlice()}
	b, _ := h.Marshal()
	udp := []byte{byte(srcPort >> 8), byte(srcPort), byte(dst.Port() >> 8), byte(dst.Port()), 0, byte(8 + n), 0, 0}
	return append(b, udp...)
}

type fakeUDP struct {
	port   int
	onSend func(ttl int, dst netip.AddrPort, n int)
	sent   atomic.Int64
}

func (u *fakeUDP) Send(b []byte, ttl int, dst netip.AddrPort) error {
	u.onSend(ttl, dst, len(b))
	u.sent.Add(1)
	return nil
}

// waitSent waits until n probes have been sent.
func (u *fakeUDP) waitSent(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for u.sent.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d probes sent, want %d", u.sent.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
func (u *fakeUDP) LocalPort() int { return u.port }
func (u *fakeUDP) Close() error   { return nil }

// The raw socket hands back the TTL from the IPv4 header and the kernel's
// receive timestamp.
func TestRawSocketReadsHeaderAndTimestamp(t *testing.T) {
	requireRawSocket(t)
	c, err := listenRawICMP(netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 4242, Seq: 7, Data: []byte("netdevd")}}).Marshal(nil)
	before := time.Now()
	if err := c.WriteTo(b, loopback); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for {
		n, ttl, src, at, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue // our own request, seen on lo
		}
		if e, ok := m.Body.(*icmp.Echo); !ok || e.ID != 4242 || e.Seq != 7 || string(e.Data) != "netdevd" {
			continue
		}
		if ttl != 64 || src != loopback || at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
			t.Errorf("ttl %d src %v at %v (sent at %v)", ttl, src, at, before)
		}
		return
	}
}

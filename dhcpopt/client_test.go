package dhcpopt

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// loopTransport runs DHCP over UDP on 127.0.0.1: "broadcast" goes to one
// server socket, unicast to the server identifier on another port, so the
// test server can tell RENEWING (unicast) from REBINDING (broadcast).
type loopTransport struct {
	bcast *net.UDPAddr
	uport int
	hw    net.HardwareAddr
}

func (t *loopTransport) client(server *net.UDPAddr) (*nclient4.Client, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cl, err := nclient4.NewWithConn(conn, t.hw, nclient4.WithServerAddr(server),
		nclient4.WithTimeout(40*time.Millisecond), nclient4.WithRetry(2))
	if err != nil {
		conn.Close()
	}
	return cl, err
}

func (t *loopTransport) broadcast() (*nclient4.Client, error) { return t.client(t.bcast) }

func (t *loopTransport) unicast(_, server netip.Addr) (*nclient4.Client, error) {
	return t.client(&net.UDPAddr{IP: server.AsSlice(), Port: t.uport})
}

func (t *loopTransport) sendTo(msg []byte, _, server netip.Addr) error {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.WriteTo(msg, &net.UDPAddr{IP: server.AsSlice(), Port: t.uport})
	return err
}

// recordOps records interface changes instead of using netlink.
type recordOps struct {
	mu   sync.Mutex
	addr netip.Prefix
	log  []string
}

func (r *recordOps) apply(old, cur *lease) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addr = cur.addr
	r.log = append(r.log, "add "+cur.addr.String())
	return nil
}

func (r *recordOps) remove(l *lease) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addr = netip.Prefix{}
	r.log = append(r.log, "del "+l.addr.String())
	return nil
}

func (r *recordOps) close() {}

func (r *recordOps) current() netip.Prefix {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

type seen struct {
	typ       dhcpv4.MessageType
	unicast   bool // arrived on the unicast socket
	ciaddr    net.IP
	asked253  bool
	requested net.IP
}

// testServer is a small DHCP server on two loopback sockets.
type testServer struct {
	t        *testing.T
	bcast    *server4.Server
	ucast    *server4.Server
	bcastLoc *net.UDPAddr
	ucastLoc *net.UDPAddr

	mu          sync.Mutex
	opt253      []byte // nil: not sent
	lease       time.Duration
	yiaddr      net.IP
	nak         bool
	silent      bool
	silentUcast bool
	seen        []seen
}

func newTestServer(t *testing.T) *testServer {
	s := &testServer{t: t, lease: time.Hour, yiaddr: net.IPv4(192, 0, 2, 10).To4(),
		opt253: []byte("cloud.example.test")}
	mk := func(unicast bool) (*server4.Server, *net.UDPAddr) {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server4.NewServer("", nil, func(c net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
			s.handle(c, peer, m, unicast)
		}, server4.WithConn(conn))
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve()
		t.Cleanup(func() { srv.Close() })
		return srv, conn.LocalAddr().(*net.UDPAddr)
	}
	s.bcast, s.bcastLoc = mk(false)
	s.ucast, s.ucastLoc = mk(true)
	return s
}

func (s *testServer) set(f func(s *testServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *testServer) messages() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

func (s *testServer) handle(c net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4, unicast bool) {
	s.mu.Lock()
	s.seen = append(s.seen, seen{typ: m.MessageType(), unicast: unicast, ciaddr: m.ClientIPAddr,
		asked253: m.IsOptionRequested(dhcpv4.GenericOptionCode(253)), requested: m.RequestedIPAddress()})
	silent := s.silent || (unicast && s.silentUcast)
	nak := s.nak
	opt253 := s.opt253
	leaseTime := s.lease
	yiaddr := s.yiaddr
	s.mu.Unlock()
	if silent {
		return
	}
	var typ dhcpv4.MessageType
	switch m.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		typ = dhcpv4.MessageTypeOffer
	case dhcpv4.MessageTypeRequest:
		typ = dhcpv4.MessageTypeAck
		if nak {
			typ = dhcpv4.MessageTypeNak
		}
	default:
		return
	}
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithServerIP(net.IPv4(127, 0, 0, 1)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(127, 0, 0, 1))),
	}
	if typ != dhcpv4.MessageTypeNak {
		mods = append(mods,
			dhcpv4.WithYourIP(yiaddr),
			dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))),
			dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(192, 0, 2, 1))),
			dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(192, 0, 2, 53), net.IPv4(192, 0, 2, 54))),
			dhcpv4.WithOption(dhcpv4.OptDomainName("site.example")),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(leaseTime)),
		)
		if opt253 != nil && m.IsOptionRequested(dhcpv4.GenericOptionCode(253)) {
			mods = append(mods, dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(253), opt253)))
		}
	} else {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptMessage("wrong network")))
	}
	resp, err := dhcpv4.NewReplyFromRequest(m, mods...)
	if err != nil {
		s.t.Error(err)
		return
	}
	if _, err := c.WriteTo(resp.ToBytes(), peer); err != nil {
		s.t.Log(err)
	}
}

type harness struct {
	t      *testing.T
	srv    *testServer
	clk    *clock.Fake
	cl     *Client
	ops    *recordOps
	log    *logbuf.Buffer
	mu     sync.Mutex
	leases []LeaseInfo
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, srv: newTestServer(t), clk: clock.NewFake(time.Date(2026, 5, 29, 10, 0, 0, 0, time.UTC)),
		ops: &recordOps{}, done: make(chan struct{})}
	h.log = logbuf.New(100, nil, h.clk.Now)
	h.cl = New(Options{
		Interface: "test0", ApplyToInterface: true, Clock: h.clk, Log: h.log,
		OnLease: func(l LeaseInfo) {
			h.mu.Lock()
			h.leases = append(h.leases, l)
			h.mu.Unlock()
		},
		transport: &loopTransport{bcast: h.srv.bcastLoc, uport: h.srv.ucastLoc.Port,
			hw: net.HardwareAddr{0x02, 0, 0, 0, 0, 1}},
		ifops: h.ops,
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.cl.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-h.done
	})
	return h
}

func (h *harness) events() []LeaseInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.leases)
}

func (h *harness) lastEvent() LeaseInfo {
	ev := h.events()
	if len(ev) == 0 {
		h.t.Fatal("no OnLease call")
	}
	return ev[len(ev)-1]
}

// waitAsleep waits until the client sleeps on the fake clock in state.
func (h *harness) waitAsleep(state string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if h.cl.Status().State == state && h.clk.Pending() == 1 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatalf("client not asleep in %s: state %s, %d timers", state, h.cl.Status().State, h.clk.Pending())
}

// renew forces a renewal and waits until the client is bound again.
func (h *harness) renew() {
	h.t.Helper()
	n := len(h.srv.messages())
	h.cl.Renew()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.srv.messages()) == n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	h.waitAsleep(StateBound)
}

func (h *harness) logText() string {
	var b strings.Builder
	for _, e := range h.log.Snapshot().Entries {
		b.WriteString(logbuf.Format(e, "Dev") + "\n")
	}
	return b.String()
}

func TestExchangeGetsOption253(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)

	st := h.cl.Status()
	if st.CloudDomain != "cloud.example.test" {
		t.Fatalf("cloud domain %q", st.CloudDomain)
	}
	if st.Addr != netip.MustParsePrefix("192.0.2.10/24") || st.Router != netip.MustParseAddr("192.0.2.1") ||
		st.Server != netip.MustParseAddr("127.0.0.1") || st.Lease != time.Hour || st.T1 != 30*time.Minute ||
		st.T2 != 52*time.Minute+30*time.Second || st.DomainName != "site.example" {
		t.Fatalf("status %+v", st)
	}
	if !slices.Equal(st.DNSServers, []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("192.0.2.54")}) {
		t.Fatalf("dns %v", st.DNSServers)
	}
	if h.ops.current() != st.Addr {
		t.Fatalf("address on interface %v", h.ops.current())
	}
	for _, m := range h.srv.messages() {
		if !m.asked253 {
			t.Fatalf("%s did not ask for option 253", m.typ)
		}
	}
	ev := h.lastEvent()
	if ev.Event != EventBound || !ev.Bound || ev.CloudDomain != "cloud.example.test" || !ev.CloudDomainChanged ||
		len(ev.DNSServers) != 2 {
		t.Fatalf("OnLease %+v", ev)
	}
	if !strings.Contains(h.logText(), "DHCP/5/DHCP_BOUND") {
		t.Fatalf("log:\n%s", h.logText())
	}
	if st.State != StateBound || st.Addr.String() != "192.0.2.10/24" || st.T1 != 1800*time.Second ||
		st.CloudDomain != "cloud.example.test" || len(st.DNSServers) != 2 || st.DNSServers[1].String() != "192.0.2.54" {
		t.Fatalf("status %+v", st)
	}
}

func TestRenewAtT1IsUnicast(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)
	n := len(h.srv.messages())
	h.clk.Advance(30*time.Minute - time.Second)
	time.Sleep(20 * time.Millisecond)
	if len(h.srv.messages()) != n {
		t.Fatal("renewed before T1")
	}
	h.clk.Advance(time.Second)
	h.waitAsleep(StateBound)
	msgs := h.srv.messages()[n:]
	if len(msgs) != 1 || msgs[0].typ != dhcpv4.MessageTypeRequest || !msgs[0].unicast ||
		!msgs[0].ciaddr.Equal(net.IPv4(192, 0, 2, 10)) || !msgs[0].asked253 {
		t.Fatalf("renewal messages %+v", msgs)
	}
	if st := h.cl.Status(); !st.BoundAt.Equal(h.clk.Now()) {
		t.Fatalf("bound at %v, now %v", st.BoundAt, h.clk.Now())
	}
	// Nothing changed: no OnLease call for the renewal.
	if ev := h.events(); len(ev) != 1 {
		t.Fatalf("OnLease calls %+v", ev)
	}
}

func TestRebindAtT2IsBroadcast(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)
	h.srv.set(func(s *testServer) { s.silentUcast = true })
	h.clk.Advance(30 * time.Minute) // T1
	h.waitAsleep(StateRenewing)     // unicast attempt failed, waiting
	n := len(h.srv.messages())
	h.clk.Advance(22*time.Minute + 30*time.Second) // T2
	h.waitAsleep(StateBound)
	msgs := h.srv.messages()[n:]
	var rebind *seen
	for i := range msgs {
		if !msgs[i].unicast {
			rebind = &msgs[i]
		}
	}
	if rebind == nil || rebind.typ != dhcpv4.MessageTypeRequest || !rebind.ciaddr.Equal(net.IPv4(192, 0, 2, 10)) {
		t.Fatalf("no broadcast REQUEST after T2: %+v", msgs)
	}
}

func TestExpiryKeepsCloudDomain(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)
	h.srv.set(func(s *testServer) { s.silent = true })
	h.clk.Advance(30 * time.Minute)
	h.waitAsleep(StateRenewing)
	h.clk.Advance(22*time.Minute + 30*time.Second)
	h.waitAsleep(StateRebinding)
	h.clk.Advance(7*time.Minute + 30*time.Second) // expiry
	deadline := time.Now().Add(5 * time.Second)
	for h.cl.Status().Addr.IsValid() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := h.cl.Status()
	if st.Addr.IsValid() || h.ops.current().IsValid() {
		t.Fatalf("address kept after expiry: %+v", st)
	}
	if st.CloudDomain != "cloud.example.test" {
		t.Fatalf("cloud domain lost: %q", st.CloudDomain)
	}
	ev := h.lastEvent()
	if ev.Event != EventExpired || ev.Bound || ev.CloudDomain != "cloud.example.test" || len(ev.DNSServers) != 2 {
		t.Fatalf("OnLease %+v", ev)
	}
	if !strings.Contains(h.logText(), "DHCP/4/DHCP_LEASE_EXPIRED") {
		t.Fatalf("log:\n%s", h.logText())
	}
	// The server comes back: a new lease from INIT.
	h.srv.set(func(s *testServer) { s.silent = false })
	h.cl.Renew()
	h.waitAsleep(StateBound)
	if ev := h.lastEvent(); ev.Event != EventBound || ev.CloudDomainChanged {
		t.Fatalf("OnLease %+v", ev)
	}
}

func TestNakRestartsDiscovery(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)
	h.srv.set(func(s *testServer) { s.nak = true })
	h.cl.Renew()
	h.waitAsleep(StateInit) // NAK on renew, then NAK on the new REQUEST: backing off
	if h.ops.current().IsValid() {
		t.Fatal("address kept after NAK")
	}
	evs := h.events()
	if evs[1].Event != EventNak || evs[1].Bound || evs[1].CloudDomain != "cloud.example.test" {
		t.Fatalf("OnLease %+v", evs)
	}
	if !strings.Contains(h.logText(), "DHCP/4/DHCP_NAK") || !strings.Contains(h.logText(), "wrong network") {
		t.Fatalf("log:\n%s", h.logText())
	}
	h.srv.set(func(s *testServer) { s.nak = false; s.yiaddr = net.IPv4(192, 0, 2, 11).To4() })
	h.clk.Advance(time.Minute) // backoff ends
	h.waitAsleep(StateBound)
	if got := h.cl.Status().Addr; got != netip.MustParsePrefix("192.0.2.11/24") || h.ops.current() != got {
		t.Fatalf("new address %v / %v", got, h.ops.current())
	}
}

func TestInvalidOption253KeepsPrevious(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)

	// A new valid value arrives on renewal: reported.
	h.srv.set(func(s *testServer) { s.opt253 = []byte("cloud2.example.test.\x00") })
	h.renew()
	if ev := h.lastEvent(); ev.CloudDomain != "cloud2.example.test" || !ev.CloudDomainChanged || ev.Event != EventRenewed {
		t.Fatalf("OnLease %+v", ev)
	}
	// Binary: rejected, previous kept.
	h.srv.set(func(s *testServer) { s.opt253 = []byte{10, 0, 0, 1} })
	n := len(h.events())
	h.renew()
	st := h.cl.Status()
	if st.CloudDomain != "cloud2.example.test" || st.Option253Rejected != 1 || !strings.Contains(st.Option253LastReject, "binary data") {
		t.Fatalf("status %+v", st)
	}
	if len(h.events()) != n {
		t.Fatalf("OnLease called for a rejected value: %+v", h.events()[n:])
	}
	if !strings.Contains(h.logText(), "DHCP/4/DHCP_OPT253_INVALID: Option 253 from 127.0.0.1 rejected: binary data") {
		t.Fatalf("log:\n%s", h.logText())
	}
	// No option at all: previous kept, nothing counted.
	h.srv.set(func(s *testServer) { s.opt253 = nil })
	h.renew()
	if st := h.cl.Status(); st.CloudDomain != "cloud2.example.test" || st.Option253Rejected != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestDisableReleases(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)
	h.cl.SetEnabled(false)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if slices.ContainsFunc(h.srv.messages(), func(m seen) bool { return m.typ == dhcpv4.MessageTypeRelease }) &&
			!h.ops.current().IsValid() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	msgs := h.srv.messages()
	last := msgs[len(msgs)-1]
	if last.typ != dhcpv4.MessageTypeRelease || !last.unicast || !last.ciaddr.Equal(net.IPv4(192, 0, 2, 10)) {
		t.Fatalf("messages %+v", msgs)
	}
	if h.ops.current().IsValid() {
		t.Fatal("address kept")
	}
	st := h.cl.Status()
	if st.Enabled || st.CloudDomain != "cloud.example.test" || st.State == StateBound {
		t.Fatalf("status %+v", st)
	}
	if ev := h.lastEvent(); ev.Event != EventReleased || ev.Bound {
		t.Fatalf("OnLease %+v", ev)
	}
}

func TestNoInterfaceNeverRuns(t *testing.T) {
	c := New(Options{})
	c.SetEnabled(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.State != StateInit || st.Addr.IsValid() {
		t.Fatalf("%+v", st)
	}
}

func TestLinkUpRebootsLease(t *testing.T) {
	h := newHarness(t)
	h.cl.SetEnabled(true)
	h.waitAsleep(StateBound)
	n := len(h.srv.messages())
	h.cl.linkUp <- false
	h.cl.linkUp <- true
	deadline := time.Now().Add(5 * time.Second)
	for len(h.srv.messages()) == n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	h.waitAsleep(StateBound)
	msgs := h.srv.messages()[n:]
	if len(msgs) != 1 || msgs[0].typ != dhcpv4.MessageTypeRequest || msgs[0].unicast ||
		!msgs[0].requested.Equal(net.IPv4(192, 0, 2, 10)) || !msgs[0].ciaddr.IsUnspecified() {
		t.Fatalf("INIT-REBOOT messages %+v", msgs)
	}
	if !strings.Contains(h.logText(), "DHCP/6/DHCP_LINK_DOWN") || !strings.Contains(h.logText(), "DHCP/6/DHCP_LINK_UP") {
		t.Fatalf("log:\n%s", h.logText())
	}

	// After a move to another network the server says NAK: address dropped.
	h.srv.set(func(s *testServer) { s.nak = true })
	h.cl.linkUp <- false
	h.cl.linkUp <- true
	h.waitAsleep(StateInit)
	if h.ops.current().IsValid() || h.cl.Status().CloudDomain != "cloud.example.test" {
		t.Fatalf("after NAK: addr %v, status %+v", h.ops.current(), h.cl.Status())
	}
}

func TestUnusableAckIsIgnored(t *testing.T) {
	h := newHarness(t)
	h.srv.set(func(s *testServer) { s.yiaddr = net.IPv4zero.To4() })
	h.cl.SetEnabled(true)
	h.waitAsleep(StateInit) // backing off, not spinning
	if !strings.Contains(h.logText(), "DHCP_BAD_ACK") || h.ops.current().IsValid() {
		t.Fatalf("log:\n%s", h.logText())
	}
	n := len(h.srv.messages())
	time.Sleep(50 * time.Millisecond)
	if len(h.srv.messages()) != n {
		t.Fatal("client retries without back-off")
	}
	h.srv.set(func(s *testServer) { s.yiaddr = net.IPv4(192, 0, 2, 10).To4() })
	h.clk.Advance(2 * time.Minute)
	h.waitAsleep(StateBound)
}

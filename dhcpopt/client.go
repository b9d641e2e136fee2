// Package dhcpopt is the DHCP client of Vlan-interface1: it obtains an
// address, router and DNS servers for the management interface and learns the
// cloud controller's domain from option 253 (zero-touch provisioning).
//
// One goroutine (Run) owns the lease and walks the RFC 2131 states:
//
//	INIT → SELECTING → REQUESTING → BOUND → (T1) RENEWING → (T2) REBINDING → (expiry) INIT
//
// plus INIT-REBOOT after the link comes back up. Lease timers use the
// injected clock; only the retransmissions inside one exchange (a few
// seconds) run on the wall clock, inside the DHCP library.
package dhcpopt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"go.uber.org/zap"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// Client states as `display dhcp client` shows them.
const (
	StateInit       = "INIT"
	StateSelecting  = "SELECTING"
	StateRequesting = "REQUESTING"
	StateBound      = "BOUND"
	StateRenewing   = "RENEWING"
	StateRebinding  = "REBINDING"
	StateRebooting  = "INIT-REBOOT"
)

// Events reported in LeaseInfo.Event.
const (
	EventBound    = "bound"    // a new lease (from INIT or INIT-REBOOT)
	EventRenewed  = "renewed"  // a renewal or rebinding changed something
	EventExpired  = "expired"  // the lease ran out: address removed
	EventNak      = "nak"      // the server refused the lease: address removed
	EventReleased = "released" // undo ip address dhcp-alloc: DHCPRELEASE sent, address removed
)

// LeaseInfo is what the daemon learns from DHCP. It is handed to
// Options.OnLease on every new lease, every renewal that changed something and
// every loss of the lease.
type LeaseInfo struct {
	Event     string       // one of the Event constants
	Interface string       // Linux interface
	Bound     bool         // the device holds a lease (false after expiry, NAK, release)
	Addr      netip.Prefix // leased address and prefix; invalid when !Bound
	Router    netip.Addr   // option 3, first router
	Server    netip.Addr   // DHCP server identifier
	Lease     time.Duration
	T1, T2    time.Duration
	// DNSServers (option 6) and DomainName (option 15) of the current lease,
	// or of the last lease when !Bound: the cloud connection keeps resolving
	// its controller through them after a loss.
	DNSServers []netip.Addr
	DomainName string
	// CloudDomain is the last valid option 253 value ever received ("" if
	// none yet). It is never cleared by losing the lease; an invalid value
	// does not replace it.
	CloudDomain string
	// CloudDomainChanged is true when this lease brought a new CloudDomain.
	CloudDomainChanged bool
}

// Options configures a Client.
type Options struct {
	Interface        string // Linux interface that is Vlan-interface1 ("" = none: client never runs)
	ApplyToInterface bool   // set address/route on the interface (netlink) — true in the daemon
	Clock            clock.Clock
	Log              *logbuf.Buffer
	Zap              *zap.Logger
	OnLease          func(l LeaseInfo) // called from Run's goroutine; keep it short

	// Timeout is the first retransmission timeout of one exchange; it doubles
	// on every retransmission (default 2 s). Retries is the number of
	// transmissions of one message (default 3: 2+4+8 s). Wall clock.
	Timeout time.Duration
	Retries int
	// RouteMetric is the metric of the default route installed via option 3
	// (default 1000, so that a host's own default route is never replaced).
	RouteMetric int

	transport transport // tests: loopback UDP instead of the interface
	ifops     ifaceOps  // tests: record instead of netlink
}

// transport opens DHCP clients. broadcast is for INIT, INIT-REBOOT and
// REBINDING, unicast for RENEWING (local is the leased address), sendTo for
// DHCPRELEASE.
type transport interface {
	broadcast() (*nclient4.Client, error)
	unicast(local, server netip.Addr) (*nclient4.Client, error)
	sendTo(msg []byte, local, server netip.Addr) error
}

// ifaceOps applies a lease to the interface.
type ifaceOps interface {
	apply(old, cur *lease) error
	remove(l *lease) error
	close()
}

type lease struct {
	ack        *dhcpv4.DHCPv4
	addr       netip.Prefix
	server     netip.Addr
	router     netip.Addr
	dns        []netip.Addr
	domainName string
	dur        time.Duration
	t1, t2     time.Duration
	boundAt    time.Time
}

func (l *lease) t1At() time.Time  { return l.boundAt.Add(l.t1) }
func (l *lease) t2At() time.Time  { return l.boundAt.Add(l.t2) }
func (l *lease) expAt() time.Time { return l.boundAt.Add(l.dur) }

// Client is the DHCP client of Vlan-interface1.
type Client struct {
	o   Options
	clk clock.Clock
	zl  *zap.Logger

	mu         sync.Mutex
	enabled    bool
	st         device.DHCPStatus
	cancelIO   context.CancelFunc
	cloud      string
	rejected   uint64
	lastReject string

	// owned by Run's goroutine
	lease   *lease
	backoff time.Duration
	ops     ifaceOps
	tr      transport

	wake   chan struct{} // configuration changed
	renew  chan struct{} // Renew()
	linkUp chan bool     // link state edges
}

const (
	defaultTimeout = 2 * time.Second
	defaultRetries = 3
	defaultMetric  = 1000
	minBackoff     = 4 * time.Second
	maxBackoff     = 64 * time.Second
	minRetransWait = 60 * time.Second // RFC 2131 4.4.5
	infiniteLease  = time.Duration(0xffffffff) * time.Second
)

// New returns a client; it does nothing until Run is called and the client is
// enabled with SetEnabled(true).
func New(o Options) *Client {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Zap == nil {
		o.Zap = zap.NewNop()
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Retries <= 0 {
		o.Retries = defaultRetries
	}
	if o.RouteMetric <= 0 {
		o.RouteMetric = defaultMetric
	}
	c := &Client{
		o:      o,
		clk:    o.Clock,
		zl:     o.Zap.Named("dhcp"),
		wake:   make(chan struct{}, 1),
		renew:  make(chan struct{}, 1),
		linkUp: make(chan bool, 8),
	}
	c.st.Interface = o.Interface
	c.st.State = StateInit
	return c
}

// SetEnabled is `ip address dhcp-alloc` (true) and its undo (false). Undo
// releases the lease: DHCPRELEASE to the server and the address is removed.
func (c *Client) SetEnabled(on bool) {
	c.mu.Lock()
	changed := c.enabled != on
	c.enabled = on
	if !on && c.cancelIO != nil {
		c.cancelIO()
	}
	c.mu.Unlock()
	if changed {
		signal(c.wake)
	}
}

// Renew forces a renewal now (BOUND → RENEWING), or an immediate new attempt
// in any other state.
func (c *Client) Renew() { signal(c.renew) }

// Status is a snapshot for `display dhcp client`.
func (c *Client) Status() device.DHCPStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st
	s.Enabled = c.enabled
	s.DNSServers = slices.Clone(s.DNSServers)
	s.CloudDomain = c.cloud
	s.Option253Rejected = c.rejected
	s.Option253LastReject = c.lastReject
	s.Now = c.clk.Now()
	return s
}

// CloudDomain is the last valid option 253 value ("" if none).
func (c *Client) CloudDomain() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cloud
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *Client) isEnabled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enabled
}

func (c *Client) setState(s string) {
	c.mu.Lock()
	c.st.State = s
	c.mu.Unlock()
}

func (c *Client) state() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.State
}

// ioContext returns a context for one exchange that SetEnabled(false) cancels.
func (c *Client) ioContext(ctx context.Context) (context.Context, func()) {
	ictx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.cancelIO = cancel
	if !c.enabled {
		cancel()
	}
	c.mu.Unlock()
	return ictx, func() {
		c.mu.Lock()
		c.cancelIO = nil
		c.mu.Unlock()
		cancel()
	}
}

func (c *Client) logf(sev int, mnemonic, format string, a ...any) {
	text := fmt.Sprintf(format, a...)
	if c.o.Log != nil {
		c.o.Log.Log("DHCP", sev, mnemonic, text)
		return
	}
	c.zl.Info(text, zap.String("mnemonic", mnemonic), zap.Int("severity", sev))
}

// Run runs the client until ctx is done. It owns all of its goroutines. With
// no Interface it just waits for ctx. On return the address stays on the
// interface (a daemon restart does not cut the management link); the lease is
// released only by SetEnabled(false).
func (c *Client) Run(ctx context.Context) error {
	if c.o.Interface == "" && c.o.transport == nil {
		<-ctx.Done()
		return nil
	}
	c.tr = c.o.transport
	if c.tr == nil {
		c.tr = newRawTransport(c.o.Interface, c.o.Timeout, c.o.Retries, c.zl)
	}
	c.ops = c.o.ifops
	if c.ops == nil && c.o.ApplyToInterface {
		ops, err := newNetlinkOps(c.o.Interface, c.o.RouteMetric)
		if err != nil {
			return fmt.Errorf("dhcp client on %s: %w", c.o.Interface, err)
		}
		c.ops = ops
	}
	if c.ops != nil {
		defer c.ops.close()
	}
	if c.o.transport == nil {
		stop := watchLink(c.o.Interface, c.linkUp, c.zl)
		defer stop()
	}
	c.backoff = minBackoff

	for ctx.Err() == nil {
		if !c.isEnabled() {
			if c.lease != nil {
				c.release()
			}
			c.setState(StateInit)
			select {
			case <-ctx.Done():
			case <-c.wake:
			case <-c.renew: // nothing to renew while disabled
			case <-c.linkUp: // nor a lease to check
			}
			c.backoff = minBackoff
			continue
		}
		switch c.state() {
		case StateInit, StateSelecting, StateRequesting:
			c.doInit(ctx)
		case StateRebooting:
			c.doReboot(ctx)
		case StateBound:
			c.doBound(ctx)
		case StateRenewing:
			c.doExtend(ctx, false)
		case StateRebinding:
			c.doExtend(ctx, true)
		default:
			c.setState(StateInit)
		}
	}
	return nil
}

type wakeReason int

const (
	wTimer wakeReason = iota
	wCtx
	wConfig
	wRenew
	wLinkUp
)

// sleep waits d on the client's clock or until something happens.
func (c *Client) sleep(ctx context.Context, d time.Duration) wakeReason {
	t := c.clk.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			return wTimer
		case <-ctx.Done():
			return wCtx
		case <-c.wake:
			return wConfig
		case <-c.renew:
			return wRenew
		case up := <-c.linkUp:
			if up {
				c.logf(logbuf.Informational, "DHCP_LINK_UP", "Link of %s is up.", c.o.Interface)
				return wLinkUp
			}
			c.logf(logbuf.Informational, "DHCP_LINK_DOWN", "Link of %s is down; the lease is kept until it expires.", c.o.Interface)
		}
	}
}

// drainLink consumes link edges that happened while an exchange ran. It
// reports whether the link came up again.
func (c *Client) drainLink() bool {
	up := false
	for {
		select {
		case u := <-c.linkUp:
			up = u
		default:
			return up
		}
	}
}

func (c *Client) requested() []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithRequestedOptions(
			dhcpv4.OptionSubnetMask,
			dhcpv4.OptionRouter,
			dhcpv4.OptionDomainNameServer,
			dhcpv4.OptionDomainName,
			dhcpv4.GenericOptionCode(OptionCloudDomain),
		),
	}
}

// waitBackoff sleeps the current backoff (with up to 1 s of jitter) and grows
// it; a renew request or a link-up edge cuts it short.
func (c *Client) waitBackoff(ctx context.Context) {
	d := c.backoff + rand.N(time.Second)
	c.backoff = min(c.backoff*2, maxBackoff)
	switch c.sleep(ctx, d) {
	case wRenew, wLinkUp:
		c.backoff = minBackoff
	}
}

func (c *Client) doInit(ctx context.Context) {
	if c.selectAndRequest(ctx) {
		return
	}
	c.setState(StateInit)
	if ctx.Err() == nil && c.isEnabled() {
		c.waitBackoff(ctx)
	}
}

// selectAndRequest is one DISCOVER/OFFER/REQUEST/ACK exchange. It reports
// whether the client is bound.
func (c *Client) selectAndRequest(ctx context.Context) bool {
	c.setState(StateSelecting)
	cl, err := c.tr.broadcast()
	if err != nil {
		c.zl.Debug("cannot open DHCP socket", zap.Error(err))
		return false
	}
	defer cl.Close()
	ictx, done := c.ioContext(ctx)
	defer done()
	offer, err := cl.DiscoverOffer(ictx, c.requested()...)
	if err != nil {
		c.zl.Debug("no DHCPOFFER", zap.Error(err))
		return false
	}
	c.setState(StateRequesting)
	l, err := cl.RequestFromOffer(ictx, offer, c.requested()...)
	if nak := (*nclient4.ErrNak)(nil); errors.As(err, &nak) {
		c.logf(logbuf.Warning, "DHCP_NAK", "DHCP server %s refused the offered address %s%s.",
			ip4(offer.ServerIdentifier()), ip4(offer.YourIPAddr), nakMsg(nak.Nak))
		return false
	}
	if err != nil {
		c.zl.Debug("no DHCPACK", zap.Error(err))
		return false
	}
	c.drainLink()
	return c.bind(l.ACK, offer.ServerIdentifier(), EventBound)
}

// doReboot verifies the current lease after the link came back up
// (RFC 2131 INIT-REBOOT): broadcast DHCPREQUEST with the leased address.
// ACK keeps it, NAK drops it, silence keeps it (the server may be away).
func (c *Client) doReboot(ctx context.Context) {
	l := c.lease
	if l == nil {
		c.setState(StateInit)
		return
	}
	if !c.clk.Now().Before(l.expAt()) {
		c.expire()
		return
	}
	cl, err := c.tr.broadcast()
	if err != nil {
		c.setState(StateBound)
		return
	}
	defer cl.Close()
	req, err := dhcpv4.New(append(c.requested(),
		dhcpv4.WithHwAddr(cl.InterfaceAddr()),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(l.addr.Addr().AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize)))...)
	if err != nil {
		c.setState(StateBound)
		return
	}
	ictx, done := c.ioContext(ctx)
	defer done()
	resp, err := cl.SendAndRead(ictx, cl.RemoteAddr(), req,
		nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak))
	switch {
	case err != nil:
		c.setState(StateBound) // no answer: keep the lease and its timers
	case resp.MessageType() == dhcpv4.MessageTypeNak:
		c.lose(EventNak, fmt.Sprintf("DHCP server %s refused address %s after link up%s.",
			ip4(resp.ServerIdentifier()), l.addr.Addr(), nakMsg(resp)))
	default:
		if !c.bind(resp, resp.ServerIdentifier(), EventBound) {
			c.setState(StateBound)
		}
	}
}

func (c *Client) doBound(ctx context.Context) {
	l := c.lease
	if l == nil {
		c.setState(StateInit)
		return
	}
	wait := l.t1At().Sub(c.clk.Now())
	if wait <= 0 {
		c.setState(StateRenewing)
		return
	}
	switch c.sleep(ctx, wait) {
	case wTimer, wRenew:
		c.setState(StateRenewing)
	case wLinkUp:
		c.setState(StateRebooting)
	}
}

// doExtend is one attempt of RENEWING (unicast to the server) or REBINDING
// (broadcast), then a wait of half the time left to T2 / expiry, at least
// 60 s (RFC 2131 4.4.5).
func (c *Client) doExtend(ctx context.Context, rebinding bool) {
	l := c.lease
	if l == nil {
		c.setState(StateInit)
		return
	}
	now := c.clk.Now()
	if !now.Before(l.expAt()) {
		c.expire()
		return
	}
	if !rebinding && !now.Before(l.t2At()) {
		c.setState(StateRebinding)
		return
	}
	var cl *nclient4.Client
	var err error
	if rebinding {
		cl, err = c.tr.broadcast()
	} else {
		cl, err = c.tr.unicast(l.addr.Addr(), l.server)
	}
	var resp *dhcpv4.DHCPv4
	if err == nil {
		var req *dhcpv4.DHCPv4
		req, err = dhcpv4.NewRenewFromAck(l.ack, append(c.requested(),
			dhcpv4.WithHwAddr(cl.InterfaceAddr()),
			dhcpv4.WithClientIP(l.addr.Addr().AsSlice()),
			dhcpv4.WithoutOption(dhcpv4.OptionServerIdentifier),
			dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize)))...)
		if err == nil {
			match := nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
			if !rebinding {
				match = nclient4.IsAll(match, nclient4.IsCorrectServer(l.server.AsSlice()))
			}
			ictx, done := c.ioContext(ctx)
			resp, err = cl.SendAndRead(ictx, cl.RemoteAddr(), req, match)
			done()
		}
		cl.Close()
	}
	if err == nil {
		if resp.MessageType() == dhcpv4.MessageTypeNak {
			c.lose(EventNak, fmt.Sprintf("DHCP server %s refused to extend the lease of %s%s.",
				ip4(resp.ServerIdentifier()), l.addr.Addr(), nakMsg(resp)))
			return
		}
		if c.bind(resp, resp.ServerIdentifier(), EventRenewed) {
			return
		}
		err = errors.New("unusable DHCPACK")
	}
	c.zl.Debug("lease extension failed", zap.Bool("rebinding", rebinding), zap.Error(err))
	if !c.isEnabled() {
		return
	}
	now = c.clk.Now()
	deadline := l.t2At()
	if rebinding {
		deadline = l.expAt()
	}
	left := deadline.Sub(now)
	wait := max(left/2, minRetransWait)
	wait = min(wait, left)
	if wait > 0 {
		if r := c.sleep(ctx, wait); r == wLinkUp {
			return // try again at once
		}
	}
	now = c.clk.Now()
	if !now.Before(l.expAt()) {
		c.expire()
	} else if !rebinding && !now.Before(l.t2At()) {
		c.setState(StateRebinding)
	}
}

func (c *Client) expire() {
	l := c.lease
	c.lose(EventExpired, fmt.Sprintf("Lease of %s from DHCP server %s expired.", l.addr.Addr(), l.server))
}

// lose drops the lease (expiry, NAK): address and route removed, state INIT.
// The cloud domain is kept.
func (c *Client) lose(event, text string) {
	l := c.lease
	if event == EventNak {
		c.logf(logbuf.Warning, "DHCP_NAK", "%s", text)
	} else {
		c.logf(logbuf.Warning, "DHCP_LEASE_EXPIRED", "%s", text)
	}
	c.dropLease(event, l)
	c.backoff = minBackoff
}

func (c *Client) dropLease(event string, l *lease) {
	if c.ops != nil && l != nil {
		if err := c.ops.remove(l); err != nil {
			c.zl.Warn("cannot remove address", zap.Error(err))
		}
	}
	c.lease = nil
	c.mu.Lock()
	c.st.State = StateInit
	c.st.Addr = netip.Prefix{}
	c.st.Lease, c.st.T1, c.st.T2 = 0, 0, 0
	c.st.Server = netip.Addr{}
	c.st.Router = netip.Addr{}
	c.st.BoundAt = time.Time{}
	cloud := c.cloud
	c.mu.Unlock()
	info := LeaseInfo{Event: event, Interface: c.o.Interface, CloudDomain: cloud}
	if l != nil {
		info.DNSServers = slices.Clone(l.dns)
		info.DomainName = l.domainName
	}
	c.notify(info)
}

// release is the undo of dhcp-alloc: DHCPRELEASE, address removed.
func (c *Client) release() {
	l := c.lease
	msg, err := dhcpv4.NewReleaseFromACK(l.ack, dhcpv4.WithClientIP(l.addr.Addr().AsSlice()))
	if err == nil {
		err = c.tr.sendTo(msg.ToBytes(), l.addr.Addr(), l.server)
	}
	if err != nil {
		c.zl.Warn("cannot send DHCPRELEASE", zap.Error(err))
	}
	c.logf(logbuf.Notification, "DHCP_RELEASED", "Released address %s to DHCP server %s.", l.addr.Addr(), l.server)
	c.dropLease(EventReleased, l)
}

func (c *Client) notify(info LeaseInfo) {
	if c.o.OnLease != nil {
		c.o.OnLease(info)
	}
}

// bind takes an ACK: lease times, address on the interface, option 253. It
// reports false (and changes nothing) for an unusable ACK.
func (c *Client) bind(ack *dhcpv4.DHCPv4, server net.IP, event string) bool {
	now := c.clk.Now()
	nl, err := parseAck(ack, server, now)
	if err != nil {
		c.logf(logbuf.Warning, "DHCP_BAD_ACK", "Ignored DHCPACK from %s: %v.", ip4(server), err)
		return false
	}
	old := c.lease
	if old != nil && old.addr != nl.addr {
		event = EventBound
	}
	if c.ops != nil {
		if err := c.ops.apply(old, nl); err != nil {
			c.logf(logbuf.Error, "DHCP_APPLY_FAILED", "Cannot set address %s on %s: %v.", nl.addr, c.o.Interface, err)
		}
	}
	c.lease = nl
	c.backoff = minBackoff

	// Option 253.
	cloudChanged := false
	if raw, ok := ack.Options[OptionCloudDomain]; ok {
		d, err := ValidateDomain(raw)
		if err != nil {
			c.mu.Lock()
			c.rejected++
			c.lastReject = err.Error()
			c.mu.Unlock()
			c.logf(logbuf.Warning, "DHCP_OPT253_INVALID", "Option 253 from %s rejected: %s.", nl.server, err)
		} else {
			c.mu.Lock()
			if d != c.cloud {
				c.cloud = d
				cloudChanged = true
			}
			c.mu.Unlock()
			if cloudChanged {
				c.logf(logbuf.Notification, "DHCP_OPT253", "Cloud controller domain %s learned from DHCP server %s.", d, nl.server)
			}
		}
	}

	c.mu.Lock()
	c.st.State = StateBound
	c.st.Addr = nl.addr
	c.st.Lease, c.st.T1, c.st.T2 = nl.dur, nl.t1, nl.t2
	c.st.Server = nl.server
	c.st.Router = nl.router
	c.st.DNSServers = slices.Clone(nl.dns)
	c.st.DomainName = nl.domainName
	c.st.BoundAt = now
	cloud := c.cloud
	c.mu.Unlock()

	if event == EventBound {
		c.logf(logbuf.Notification, "DHCP_BOUND", "%s obtained address %s from DHCP server %s, lease %d seconds.",
			c.ifName(), nl.addr, nl.server, int64(nl.dur.Seconds()))
	} else {
		c.logf(logbuf.Informational, "DHCP_RENEWED", "Lease of %s renewed by DHCP server %s, lease %d seconds.",
			nl.addr.Addr(), nl.server, int64(nl.dur.Seconds()))
	}
	if event == EventBound || cloudChanged || !sameInfo(old, nl) {
		c.notify(LeaseInfo{
			Event: event, Interface: c.o.Interface, Bound: true,
			Addr: nl.addr, Router: nl.router, Server: nl.server,
			Lease: nl.dur, T1: nl.t1, T2: nl.t2,
			DNSServers: slices.Clone(nl.dns), DomainName: nl.domainName,
			CloudDomain: cloud, CloudDomainChanged: cloudChanged,
		})
	}
	return true
}

func (c *Client) ifName() string {
	if c.o.Interface == "" {
		return "Vlan-interface1"
	}
	return "Vlan-interface1 (" + c.o.Interface + ")"
}

func sameInfo(a, b *lease) bool {
	return a != nil && b != nil && a.addr == b.addr && a.router == b.router && a.server == b.server &&
		slices.Equal(a.dns, b.dns) && a.domainName == b.domainName
}

func parseAck(ack *dhcpv4.DHCPv4, server net.IP, now time.Time) (*lease, error) {
	ip, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || ip.IsUnspecified() {
		return nil, errors.New("no address offered")
	}
	bits := -1
	if m := ack.SubnetMask(); m != nil {
		ones, size := m.Size()
		if size == 32 {
			bits = ones
		}
	}
	if bits < 0 || bits == 0 {
		bits = classfulBits(ip)
	}
	l := &lease{ack: ack, addr: netip.PrefixFrom(ip, bits), boundAt: now}
	if sid := ack.ServerIdentifier(); sid != nil {
		server = sid
	}
	l.server, _ = netip.AddrFromSlice(server.To4())
	for _, r := range ack.Router() {
		if a, ok := netip.AddrFromSlice(r.To4()); ok && !a.IsUnspecified() {
			l.router = a
			break
		}
	}
	for _, d := range ack.DNS() {
		if a, ok := netip.AddrFromSlice(d.To4()); ok && !a.IsUnspecified() {
			l.dns = append(l.dns, a)
		}
	}
	if dn, err := ValidateDomain([]byte(ack.DomainName())); err == nil {
		l.domainName = dn
	}
	l.dur = ack.IPAddressLeaseTime(time.Hour)
	if l.dur <= 0 || l.dur >= infiniteLease {
		l.dur = infiniteLease
	}
	l.t1 = ack.IPAddressRenewalTime(0)
	l.t2 = ack.IPAddressRebindingTime(0)
	if l.t2 <= 0 || l.t2 >= l.dur {
		l.t2 = l.dur * 7 / 8
	}
	if l.t1 <= 0 || l.t1 >= l.t2 {
		l.t1 = min(l.dur/2, l.t2)
	}
	return l, nil
}

func classfulBits(a netip.Addr) int {
	switch b := a.As4()[0]; {
	case b < 128:
		return 8
	case b < 192:
		return 16
	default:
		return 24
	}
}

func ip4(ip net.IP) string {
	if a, ok := netip.AddrFromSlice(ip.To4()); ok {
		return a.String()
	}
	return "unknown"
}

func nakMsg(m *dhcpv4.DHCPv4) string {
	if m == nil {
		return ""
	}
	if s := m.Message(); s != "" {
		return " (" + s + ")"
	}
	return ""
}

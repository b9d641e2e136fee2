// Package netif keeps Vlan-interface1's Linux interface as the
// configuration says: the static address of `ip address A.B.C.D MASK` and
// the routes of `ip route-static`, and reports the interface, the routing
// table and the ARP table for the displays. The kernel is reached through
// the OS interface: netlink in the daemon, a fake in tests.
//
// The configuration is the goal and the kernel is brought to it (the way
// the DHCP client follows `ip address dhcp-alloc`): on every configuration
// change, on a DHCP event (Kick), and every Interval on the injected clock.
// That periodic check is how a change made behind the device's back (`ip
// addr del`, `ip route del`, an address added by hand) is undone: the
// configured address and routes are put back and addresses that are not
// configured are removed while a static address is, each repair logged as
// a warning (docs/operations.md, "Bring-up without DHCP").
//
// Ownership, so that nothing else on the box is touched:
//   - addresses: with a static address configured, Vlan-interface1 has
//     that IPv4 address and no other. Without one, the manager removes
//     only the static address it put there itself; the DHCP client owns
//     its leased address.
//   - routes: the manager's routes carry the protocol ProtoStatic; only
//     routes with that mark are ever removed. A route's kernel metric is
//     its preference, and routes to one destination with one preference
//     form one multipath route.
package netif

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// Defaults.
const (
	DefaultInterval = 5 * time.Second   // the periodic check
	RateWindow      = 300 * time.Second // `Last 300 seconds input rate`
	Name            = "Vlan-interface1"
	description     = "Vlan-interface1 Interface"
)

// Options configures a Manager.
type Options struct {
	Interface string // the Linux interface that is Vlan-interface1; "" = none
	OS        OS     // nil: netlink, opened by Run
	Clock     clock.Clock
	Log       *logbuf.Buffer
	Zap       *zap.Logger
	Interval  time.Duration // the periodic check (default DefaultInterval)
}

// Manager keeps Vlan-interface1 as configured. Its methods are safe for
// concurrent use; Run owns the periodic work.
type Manager struct {
	o    Options
	clk  clock.Clock
	wake chan struct{}

	mu       sync.Mutex // guards everything below and serializes kernel calls
	os       OS
	goal     goal
	applied  goal              // what the manager last put in the kernel
	failing  map[string]string // problem → last text logged (logged once)
	samples  []sample          // counters, for the rates
	expected bool              // a DHCP event: repairs now are not someone else's doing
}

// goal is what the configuration asks for.
type goal struct {
	addr   netip.Prefix
	routes map[routeKey]KernelRoute
}

type routeKey struct {
	dest   netip.Prefix
	metric int
}

type sample struct {
	at    time.Time
	stats device.IfCounters
}

// New returns a manager; it does nothing to the kernel until Run.
func New(o Options) *Manager {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Zap == nil {
		o.Zap = zap.NewNop()
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	return &Manager{o: o, clk: o.Clock, wake: make(chan struct{}, 1), os: o.OS, failing: map[string]string{}}
}

// SetConfig sets the goal: the static address (invalid = none) and the
// static routes. Cheap; the kernel follows in Run's goroutine.
func (m *Manager) SetConfig(addr netip.Prefix, routes []config.StaticRoute) {
	g := goal{addr: addr, routes: map[routeKey]KernelRoute{}}
	for _, r := range routes {
		k := routeKey{r.Dest, r.Preference}
		kr := g.routes[k]
		kr.Dest, kr.Metric, kr.Protocol = r.Dest, r.Preference, ProtoStatic
		kr.Gateways = append(kr.Gateways, r.NextHop)
		slices.SortFunc(kr.Gateways, netip.Addr.Compare)
		g.routes[k] = kr
	}
	m.mu.Lock()
	m.goal = g
	m.mu.Unlock()
	m.signal()
}

// Kick asks for a check now: the DHCP client changed the interface (a
// lease released or bound), so what the check repairs is expected.
func (m *Manager) Kick() {
	m.mu.Lock()
	m.expected = true
	m.mu.Unlock()
	m.signal()
}

func (m *Manager) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run keeps the kernel at the goal until ctx ends. On return the address
// and routes stay (a daemon restart does not cut the management link).
func (m *Manager) Run(ctx context.Context) error {
	if m.o.Interface == "" {
		<-ctx.Done()
		return nil
	}
	if err := m.open(); err != nil {
		return fmt.Errorf("Vlan-interface1 on %s: %w", m.o.Interface, err)
	}
	defer m.close()
	t := m.clk.NewTimer(m.o.Interval)
	defer t.Stop()
	for {
		m.Reconcile()
		select {
		case <-ctx.Done():
			return nil
		case <-m.wake:
		case <-t.C():
			t.Reset(m.o.Interval)
		}
	}
}

func (m *Manager) open() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.os != nil {
		return nil
	}
	os, err := newNetlinkOS()
	if err != nil {
		return err
	}
	m.os = os
	return nil
}

func (m *Manager) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.os != nil && m.o.OS == nil {
		m.os.Close()
		m.os = nil
	}
}

// Reconcile brings the kernel to the goal once (Run calls it; tests too).
func (m *Manager) Reconcile() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.os == nil {
		return
	}
	expected := m.expected
	m.expected = false
	link, err := m.os.Link(m.o.Interface)
	if err != nil {
		m.problem("link", logbuf.Warning, "IFNET", "IFNET_MISSING", "Linux interface %s of Vlan-interface1 is not available: %v.", m.o.Interface, err)
		return
	}
	m.solved("link")
	m.sample(link)
	m.reconcileAddr(link, expected)
	m.reconcileRoutes(link, expected)
}

func (m *Manager) logf(sev int, module, mnemonic, format string, a ...any) {
	text := fmt.Sprintf(format, a...)
	if m.o.Log != nil {
		m.o.Log.Log(module, sev, mnemonic, text)
		return
	}
	m.o.Zap.Info(text, zap.String("mnemonic", mnemonic))
}

// problem logs a failure once, until it changes or is solved.
func (m *Manager) problem(key string, sev int, module, mnemonic, format string, a ...any) {
	text := fmt.Sprintf(format, a...)
	if m.failing[key] == text {
		return
	}
	m.failing[key] = text
	m.logf(sev, module, mnemonic, "%s", text)
}

func (m *Manager) solved(key string) { delete(m.failing, key) }

// repairLevel: a repair of something the manager had put there is someone
// else's change (a warning) unless a DHCP event explains it.
func repairLevel(expected bool) int {
	if expected {
		return logbuf.Informational
	}
	return logbuf.Warning
}

func (m *Manager) reconcileAddr(link Link, expected bool) {
	addrs, err := m.os.Addrs(link.Index)
	if err != nil {
		m.problem("addrs", logbuf.Warning, "IP", "IP_ADDR_FAILED", "Cannot read the addresses of %s: %v.", m.o.Interface, err)
		return
	}
	m.solved("addrs")
	want, had := m.goal.addr, m.applied.addr
	if had.IsValid() && had != want {
		if hasAddr(addrs, had) {
			m.delAddr(link, had)
			m.logf(logbuf.Informational, "IP", "IP_ADDR_REMOVED", "Removed address %s from %s (Vlan-interface1).", had, m.o.Interface)
		}
		m.applied.addr = netip.Prefix{}
	}
	if !want.IsValid() {
		return
	}
	for _, a := range addrs {
		if a.Prefix != want {
			m.delAddr(link, a.Prefix)
			m.logf(logbuf.Warning, "IP", "IP_ADDR_REMOVED", "Removed address %s from %s: Vlan-interface1 is configured with %s only.", a.Prefix, m.o.Interface, want)
		}
	}
	if i := slices.IndexFunc(addrs, func(a Addr) bool { return a.Prefix == want }); i >= 0 && addrs[i].Permanent {
		m.applied.addr = want
		return
	}
	if err := m.os.AddAddr(link.Index, want); err != nil {
		m.problem("addr", logbuf.Error, "IP", "IP_ADDR_FAILED", "Cannot put address %s on %s: %v.", want, m.o.Interface, err)
		return
	}
	m.solved("addr")
	if had == want {
		m.logf(repairLevel(expected), "IP", "IP_ADDR_RESTORED", "Address %s was missing from %s (Vlan-interface1); restored.", want, m.o.Interface)
	} else {
		m.logf(logbuf.Informational, "IP", "IP_ADDR_SET", "Vlan-interface1 address %s set on %s.", want, m.o.Interface)
	}
	m.applied.addr = want
}

func (m *Manager) delAddr(link Link, p netip.Prefix) {
	if err := m.os.DelAddr(link.Index, p); err != nil {
		m.problem("del "+p.String(), logbuf.Warning, "IP", "IP_ADDR_FAILED", "Cannot remove address %s from %s: %v.", p, m.o.Interface, err)
	}
}

func hasAddr(addrs []Addr, p netip.Prefix) bool {
	return slices.ContainsFunc(addrs, func(a Addr) bool { return a.Prefix == p })
}

func (m *Manager) reconcileRoutes(link Link, expected bool) {
	kernel, err := m.os.Routes()
	if err != nil {
		m.problem("routes", logbuf.Warning, "RM", "RM_ROUTE_FAILED", "Cannot read the routing table: %v.", err)
		return
	}
	m.solved("routes")
	ours := map[routeKey]KernelRoute{}
	for _, r := range kernel {
		if r.Protocol == ProtoStatic {
			ours[routeKey{r.Dest, r.Metric}] = r
		}
	}
	for k, r := range ours {
		if w, ok := m.goal.routes[k]; !ok || !slices.Equal(w.Gateways, r.Gateways) {
			if err := m.os.DelRoute(r); err != nil && !ok {
				m.problem("del "+routeText(r), logbuf.Warning, "RM", "RM_ROUTE_FAILED", "Cannot remove route %s: %v.", routeText(r), err)
			}
			delete(ours, k)
		}
	}
	applied := map[routeKey]KernelRoute{}
	for k, w := range m.goal.routes {
		w.Link = link.Index
		key := "route " + routeText(w)
		if r, ok := ours[k]; ok && r.Link == w.Link {
			applied[k] = w
			m.solved(key)
			continue
		}
		if err := m.os.ReplaceRoute(w); err != nil {
			m.problem(key, logbuf.Warning, "RM", "RM_ROUTE_INACTIVE", "Static route %s is not installed: %v.", routeText(w), err)
			continue
		}
		m.solved(key)
		applied[k] = w
		if prev, ok := m.applied.routes[k]; ok && slices.Equal(prev.Gateways, w.Gateways) {
			m.logf(repairLevel(expected), "RM", "RM_ROUTE_RESTORED", "Static route %s was missing from the kernel; restored.", routeText(w))
		}
	}
	m.applied.routes = applied
}

// routeText is `10.0.0.0/8 via 10.78.0.1[,10.78.0.254] preference 60`.
func routeText(r KernelRoute) string {
	hops := ""
	for i, g := range r.Gateways {
		if i > 0 {
			hops += ","
		}
		hops += g.String()
	}
	return fmt.Sprintf("%s via %s preference %d", r.Dest, hops, r.Metric)
}

// sample keeps the counters for the rates: the oldest sample of the window
// and every later one (a few dozen at the default interval).
func (m *Manager) sample(link Link) {
	now := m.clk.Now()
	if n := len(m.samples); n > 0 && link.Stats.InPackets < m.samples[n-1].stats.InPackets {
		m.samples = nil // the interface was recreated: counters restarted
	}
	m.samples = append(m.samples, sample{at: now, stats: link.Stats})
	for len(m.samples) > 1 && now.Sub(m.samples[1].at) >= RateWindow {
		m.samples = m.samples[1:]
	}
}

// rates are the rates from the oldest sample to cur.
func (m *Manager) rates(cur device.IfCounters) (in, out device.Rate, window time.Duration) {
	if len(m.samples) == 0 {
		return
	}
	first := m.samples[0]
	window = m.clk.Now().Sub(first.at)
	secs := uint64(window / time.Second)
	if secs == 0 || cur.InPackets < first.stats.InPackets {
		return device.Rate{}, device.Rate{}, window
	}
	per := func(a, b uint64) uint64 { return (a - min(a, b)) / secs }
	in = device.Rate{BytesPerSec: per(cur.InBytes, first.stats.InBytes), PacketsPerSec: per(cur.InPackets, first.stats.InPackets)}
	out = device.Rate{BytesPerSec: per(cur.OutBytes, first.stats.OutBytes), PacketsPerSec: per(cur.OutPackets, first.stats.OutPackets)}
	return in, out, window
}

// errNoInterface answers reads when no Linux interface is Vlan-interface1.
var errNoInterface = errors.New("no Linux interface is Vlan-interface1")

// link reads Vlan-interface1's link and addresses (m.mu held).
func (m *Manager) link() (Link, []Addr, error) {
	if m.os == nil || m.o.Interface == "" {
		return Link{}, nil, errNoInterface
	}
	link, err := m.os.Link(m.o.Interface)
	if err != nil {
		return Link{}, nil, err
	}
	addrs, err := m.os.Addrs(link.Index)
	return link, addrs, err
}

// primary is the interface's primary IPv4 address.
func primary(addrs []Addr) (Addr, bool) {
	for _, a := range addrs {
		if !a.Secondary {
			return a, true
		}
	}
	return Addr{}, false
}

// Interface is Vlan-interface1's state for the displays.
func (m *Manager) Interface() device.InterfaceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := device.InterfaceStatus{Name: Name, LinuxName: m.o.Interface, Description: description}
	link, addrs, err := m.link()
	if err != nil {
		return st
	}
	st.AdminUp, st.LinkUp, st.MTU, st.MAC, st.Counters = link.AdminUp, link.LinkUp, link.MTU, link.MAC, link.Stats
	if a, ok := primary(addrs); ok {
		st.Addr, st.AddrOrigin = a.Prefix, device.AddrDHCP
		if a.Permanent {
			st.AddrOrigin = device.AddrStatic
		}
	}
	st.InRate, st.OutRate, st.RateWindow = m.rates(link.Stats)
	if snmp, err := m.os.SNMP(); err == nil {
		st.ICMP, st.TTLInvalid = icmpCounters(snmp), snmp["Ip"]["InHdrErrors"]
	}
	return st
}

// icmpCounters maps /proc/net/snmp onto Comware's ICMP input counters.
func icmpCounters(s SNMP) device.ICMPCounters {
	i, msg := s["Icmp"], s["IcmpMsg"]
	c := device.ICMPCounters{
		In: i["InMsgs"], EchoReply: i["InEchoReps"], Unreachable: i["InDestUnreachs"], SourceQuench: i["InSrcQuenchs"],
		Redirect: i["InRedirects"], EchoRequest: i["InEchos"], RouterAdvert: msg["InType9"], RouterSolicit: msg["InType10"],
		TimeExceeded: i["InTimeExcds"], ParamProblem: i["InParmProbs"], TimestampRequest: i["InTimestamps"],
		TimestampReply: i["InTimestampReps"], InfoRequest: msg["InType15"], InfoReply: msg["InType16"],
		MaskRequest: i["InAddrMasks"], MaskReply: i["InAddrMaskReps"],
	}
	known := c.EchoReply + c.Unreachable + c.SourceQuench + c.Redirect + c.EchoRequest + c.RouterAdvert + c.RouterSolicit +
		c.TimeExceeded + c.ParamProblem + c.TimestampRequest + c.TimestampReply + c.InfoRequest + c.InfoReply + c.MaskRequest + c.MaskReply
	c.Unknown = c.In - min(c.In, known+i["InErrors"])
	return c
}

// The routes Comware always shows: the loopback and the special addresses.
var loopbackRoutes = []device.Route{
	{Dest: netip.MustParsePrefix("0.0.0.0/32"), NextHop: netip.MustParseAddr("127.0.0.1"), Interface: "InLoop0"},
	{Dest: netip.MustParsePrefix("127.0.0.0/8"), NextHop: netip.MustParseAddr("127.0.0.1"), Interface: "InLoop0"},
	{Dest: netip.MustParsePrefix("127.0.0.0/32"), NextHop: netip.MustParseAddr("127.0.0.1"), Interface: "InLoop0"},
	{Dest: netip.MustParsePrefix("127.0.0.1/32"), NextHop: netip.MustParseAddr("127.0.0.1"), Interface: "InLoop0"},
	{Dest: netip.MustParsePrefix("127.255.255.255/32"), NextHop: netip.MustParseAddr("127.0.0.1"), Interface: "InLoop0"},
	{Dest: netip.MustParsePrefix("224.0.0.0/4"), NextHop: netip.MustParseAddr("0.0.0.0"), Interface: "NULL0"},
	{Dest: netip.MustParsePrefix("224.0.0.0/24"), NextHop: netip.MustParseAddr("0.0.0.0"), Interface: "NULL0"},
	{Dest: netip.MustParsePrefix("255.255.255.255/32"), NextHop: netip.MustParseAddr("127.0.0.1"), Interface: "InLoop0"},
}

// directRoutes are an interface address's Direct routes, Comware's way:
// the subnet, its network and broadcast host routes on the interface, the
// address itself on InLoop0.
func directRoutes(p netip.Prefix) []device.Route {
	a, vlan, loop := p.Addr(), "Vlan1", netip.MustParseAddr("127.0.0.1")
	host := func(x netip.Addr, hop netip.Addr, ifname string) device.Route {
		return device.Route{Dest: netip.PrefixFrom(x, 32), NextHop: hop, Interface: ifname}
	}
	rs := []device.Route{host(a, loop, "InLoop0")}
	if p.Bits() < 32 {
		rs = append(rs, device.Route{Dest: p.Masked(), NextHop: a, Interface: vlan})
	}
	if p.Bits() < 31 {
		rs = append(rs, host(p.Masked().Addr(), a, vlan), host(config.BroadcastAddr(p), a, vlan))
	}
	return rs
}

// Routes is the routing table: Direct routes, then the device's static
// routes and the DHCP default route as the kernel has them (a route the
// kernel refused, or marked dead, is not active and not shown).
func (m *Manager) Routes() []device.Route {
	m.mu.Lock()
	defer m.mu.Unlock()
	routes := slices.Clone(loopbackRoutes)
	link, addrs, err := m.link()
	if err == nil && link.AdminUp && link.LinkUp {
		if a, ok := primary(addrs); ok {
			routes = append(routes, directRoutes(a.Prefix)...)
		}
	}
	for i := range routes {
		routes[i].Proto = device.RouteDirect
	}
	if m.os != nil {
		kernel, _ := m.os.Routes()
		for _, r := range kernel {
			routes = append(routes, kernelRows(r, link.Index)...)
		}
	}
	sort.SliceStable(routes, func(i, j int) bool { return routeLess(routes[i], routes[j]) })
	return routes
}

// kernelRows are the rows of a static or DHCP route (one per next hop).
func kernelRows(r KernelRoute, link int) []device.Route {
	proto := ""
	switch {
	case r.LinkDown:
	case r.Protocol == ProtoStatic:
		proto = device.RouteStatic
	case r.Protocol == ProtoDHCP && r.Link == link:
		proto = device.RouteDHCP
	}
	if proto == "" {
		return nil
	}
	var rows []device.Route
	for _, g := range r.Gateways {
		rows = append(rows, device.Route{Dest: r.Dest, Proto: proto, Pre: r.Metric, NextHop: g, Interface: "Vlan1"})
	}
	return rows
}

func routeLess(a, b device.Route) bool {
	if c := a.Dest.Addr().Compare(b.Dest.Addr()); c != 0 {
		return c < 0
	}
	if a.Dest.Bits() != b.Dest.Bits() {
		return a.Dest.Bits() < b.Dest.Bits()
	}
	if a.Pre != b.Pre {
		return a.Pre < b.Pre
	}
	return a.NextHop.Less(b.NextHop)
}

// Neighbors is the ARP table of Vlan-interface1.
func (m *Manager) Neighbors() []device.Neighbor {
	m.mu.Lock()
	defer m.mu.Unlock()
	link, _, err := m.link()
	if err != nil {
		return nil
	}
	ns, err := m.os.Neighbors(link.Index)
	if err != nil {
		return nil
	}
	var out []device.Neighbor
	for _, n := range ns {
		if n.NoARP {
			continue
		}
		out = append(out, device.Neighbor{IP: n.IP, MAC: n.MAC, Interface: Name, Static: n.Permanent, Invalid: n.Failed, Confirmed: n.Confirmed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

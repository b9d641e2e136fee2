package netif

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

func TestStaticAddressApplied(t *testing.T) {
	m, f, log, _ := newTestManager(t)
	dhcp := Addr{Prefix: netip.MustParsePrefix("10.78.0.77/24")} // a leftover lease
	f.addrs = []Addr{dhcp}
	m.SetConfig(static24, nil)
	m.Reconcile()
	addrs, _ := f.state()
	if !slices.Equal(addrs, []Addr{{Prefix: static24, Permanent: true}}) {
		t.Errorf("addresses %+v", addrs)
	}
	if l := logged(log); !strings.Contains(l, "IP/4/IP_ADDR_REMOVED: Removed address 10.78.0.77/24 from eth1") ||
		!strings.Contains(l, "IP/6/IP_ADDR_SET: Vlan-interface1 address 10.78.0.2/24 set on eth1.") {
		t.Errorf("log:\n%s", l)
	}
	calls := f.calls
	m.Reconcile()
	if f.calls != calls {
		t.Errorf("a second check changed the kernel again")
	}
	// undo ip address: ours goes, and a DHCP lease that comes later stays.
	m.SetConfig(netip.Prefix{}, nil)
	m.Reconcile()
	f.AddAddr(7, dhcp.Prefix)
	m.Reconcile()
	if addrs, _ := f.state(); len(addrs) != 1 || addrs[0].Prefix != dhcp.Prefix {
		t.Errorf("after undo: %+v", addrs)
	}
}

// An address removed behind the device's back is put back, with a
// warning; one restored after a DHCP event is only information.
func TestAddressRestored(t *testing.T) {
	m, f, log, _ := newTestManager(t)
	m.SetConfig(static24, nil)
	m.Reconcile()
	f.DelAddr(7, static24)
	m.Reconcile()
	if addrs, _ := f.state(); len(addrs) != 1 || addrs[0].Prefix != static24 {
		t.Errorf("not restored: %+v", addrs)
	}
	if !strings.Contains(logged(log), "IP/4/IP_ADDR_RESTORED: Address 10.78.0.2/24 was missing from eth1 (Vlan-interface1); restored.") {
		t.Errorf("log:\n%s", logged(log))
	}
	f.DelAddr(7, static24)
	m.Kick()
	m.Reconcile()
	if !strings.Contains(logged(log), "IP/6/IP_ADDR_RESTORED") {
		t.Errorf("after Kick:\n%s", logged(log))
	}
}

func TestStaticRoutesApplied(t *testing.T) {
	m, f, log, _ := newTestManager(t)
	foreign := KernelRoute{Dest: netip.MustParsePrefix("192.0.2.0/24"), Gateways: []netip.Addr{gw}, Link: 7, Metric: 100, Protocol: 3}
	stale := KernelRoute{Dest: netip.MustParsePrefix("203.0.113.0/24"), Gateways: []netip.Addr{gw}, Link: 7, Metric: 60, Protocol: ProtoStatic}
	f.routes = []KernelRoute{foreign, stale}
	m.SetConfig(static24, []config.StaticRoute{
		route("0.0.0.0/0", 60, gw), route("0.0.0.0/0", 60, gw2), route("0.0.0.0/0", 80, gw2), route("198.51.100.0/24", 60, gw)})
	m.Reconcile()
	_, routes := f.state()
	want := []KernelRoute{
		foreign,
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateways: []netip.Addr{gw, gw2}, Link: 7, Metric: 60, Protocol: ProtoStatic},
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateways: []netip.Addr{gw2}, Link: 7, Metric: 80, Protocol: ProtoStatic},
		{Dest: netip.MustParsePrefix("198.51.100.0/24"), Gateways: []netip.Addr{gw}, Link: 7, Metric: 60, Protocol: ProtoStatic},
	}
	sortRoutes(routes)
	sortRoutes(want)
	if !slices.EqualFunc(routes, want, sameRoute) {
		t.Errorf("routes:\n%+v\nwant:\n%+v\nlog:\n%s", routes, want, logged(log))
	}
	// undo one: only that route goes.
	m.SetConfig(static24, []config.StaticRoute{route("0.0.0.0/0", 80, gw2)})
	m.Reconcile()
	_, routes = f.state()
	if len(routes) != 2 || !slices.ContainsFunc(routes, func(r KernelRoute) bool { return sameRoute(r, foreign) }) {
		t.Errorf("after undo: %+v", routes)
	}
}

func sameRoute(a, b KernelRoute) bool {
	return a.Dest == b.Dest && slices.Equal(a.Gateways, b.Gateways) && a.Link == b.Link && a.Metric == b.Metric && a.Protocol == b.Protocol
}

func sortRoutes(rs []KernelRoute) {
	slices.SortFunc(rs, func(a, b KernelRoute) int {
		if c := a.Dest.Addr().Compare(b.Dest.Addr()); c != 0 {
			return c
		}
		return a.Metric - b.Metric
	})
}

// A route the kernel refuses (its next hop is not on a connected subnet)
// is logged once and installed once it can be; a route deleted behind the
// device's back is put back with a warning.
func TestRouteRefusedThenInstalledAndRestored(t *testing.T) {
	m, f, log, _ := newTestManager(t)
	m.SetConfig(netip.Prefix{}, []config.StaticRoute{route("0.0.0.0/0", 60, gw)})
	m.Reconcile()
	m.Reconcile()
	if n := strings.Count(logged(log), "RM_ROUTE_INACTIVE"); n != 1 {
		t.Errorf("%d RM_ROUTE_INACTIVE lines:\n%s", n, logged(log))
	}
	if r := m.Routes(); slices.ContainsFunc(r, func(r device.Route) bool { return r.Proto == device.RouteStatic }) {
		t.Errorf("an inactive route is shown: %+v", r)
	}
	m.SetConfig(static24, []config.StaticRoute{route("0.0.0.0/0", 60, gw)})
	m.Reconcile()
	if _, routes := f.state(); len(routes) != 1 {
		t.Fatalf("routes %+v\n%s", routes, logged(log))
	}
	f.DelRoute(KernelRoute{Dest: netip.MustParsePrefix("0.0.0.0/0"), Metric: 60})
	m.Reconcile()
	if _, routes := f.state(); len(routes) != 1 {
		t.Errorf("not restored: %+v", routes)
	}
	if !strings.Contains(logged(log), "RM/4/RM_ROUTE_RESTORED: Static route 0.0.0.0/0 via 10.78.0.1 preference 60 was missing from the kernel; restored.") {
		t.Errorf("log:\n%s", logged(log))
	}
}

// Run checks every Interval on the clock: a change behind the back is
// undone without any configuration change.
func TestRunChecksPeriodically(t *testing.T) {
	m, f, _, clk := newTestManager(t)
	m.SetConfig(static24, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	waitFor(t, func() bool { a, _ := f.state(); return len(a) == 1 && clk.Pending() == 1 })
	f.DelAddr(7, static24)
	clk.Advance(DefaultInterval)
	waitFor(t, func() bool { a, _ := f.state(); return len(a) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestInterfaceStatusAndRates(t *testing.T) {
	m, f, _, clk := newTestManager(t)
	f.snmp = SNMP{"Ip": {"InHdrErrors": 2}, "Icmp": {"InMsgs": 3, "InEchoReps": 3}}
	f.link.Stats = device.IfCounters{InPackets: 100, InBytes: 10000, OutPackets: 50, OutBytes: 6000}
	m.SetConfig(static24, nil)
	m.Reconcile()
	clk.Advance(100 * time.Second)
	f.link.Stats = device.IfCounters{InPackets: 300, InBytes: 60000, OutPackets: 150, OutBytes: 16000}
	st := m.Interface()
	want := device.InterfaceStatus{Name: "Vlan-interface1", LinuxName: "eth1", AdminUp: true, LinkUp: true, MTU: 1500,
		MAC: "02:00:00:00:00:07", Addr: static24, AddrOrigin: device.AddrStatic, Description: "Vlan-interface1 Interface",
		Counters: f.link.Stats, InRate: device.Rate{BytesPerSec: 500, PacketsPerSec: 2}, OutRate: device.Rate{BytesPerSec: 100, PacketsPerSec: 1},
		RateWindow: 100 * time.Second, ICMP: device.ICMPCounters{In: 3, EchoReply: 3}, TTLInvalid: 2}
	if st != want {
		t.Errorf("status\n%+v\nwant\n%+v", st, want)
	}
	f.addrs = []Addr{{Prefix: static24}}
	if st := m.Interface(); st.AddrOrigin != device.AddrDHCP {
		t.Errorf("a leased address: %q", st.AddrOrigin)
	}
	f.missing = true
	if st := m.Interface(); st.AdminUp || st.Addr.IsValid() || st.LinuxName != "eth1" {
		t.Errorf("missing link: %+v", st)
	}
}

func TestRoutesForTheDisplay(t *testing.T) {
	m, f, _, _ := newTestManager(t)
	m.SetConfig(static24, []config.StaticRoute{route("0.0.0.0/0", 60, gw), route("0.0.0.0/0", 60, gw2)})
	m.Reconcile()
	f.routes = append(f.routes,
		KernelRoute{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateways: []netip.Addr{gw}, Link: 7, Metric: 1000, Protocol: ProtoDHCP},
		KernelRoute{Dest: netip.MustParsePrefix("10.9.0.0/16"), Gateways: []netip.Addr{gw}, Link: 7, Metric: 5, Protocol: 3},
		KernelRoute{Dest: netip.MustParsePrefix("10.8.0.0/16"), Gateways: []netip.Addr{gw}, Link: 7, Metric: 60, Protocol: ProtoStatic, LinkDown: true})
	var got []string
	for _, r := range m.Routes() {
		got = append(got, r.Dest.String()+" "+r.Proto+" "+itoa(r.Pre)+" "+r.NextHop.String()+" "+r.Interface)
	}
	want := []string{
		"0.0.0.0/0 Static 60 10.78.0.1 Vlan1", "0.0.0.0/0 Static 60 10.78.0.254 Vlan1", "0.0.0.0/0 DHCP 1000 10.78.0.1 Vlan1",
		"0.0.0.0/32 Direct 0 127.0.0.1 InLoop0",
		"10.78.0.0/24 Direct 0 10.78.0.2 Vlan1", "10.78.0.0/32 Direct 0 10.78.0.2 Vlan1",
		"10.78.0.2/32 Direct 0 127.0.0.1 InLoop0", "10.78.0.255/32 Direct 0 10.78.0.2 Vlan1",
		"127.0.0.0/8 Direct 0 127.0.0.1 InLoop0", "127.0.0.0/32 Direct 0 127.0.0.1 InLoop0",
		"127.0.0.1/32 Direct 0 127.0.0.1 InLoop0", "127.255.255.255/32 Direct 0 127.0.0.1 InLoop0",
		"224.0.0.0/4 Direct 0 0.0.0.0 NULL0", "224.0.0.0/24 Direct 0 0.0.0.0 NULL0",
		"255.255.255.255/32 Direct 0 127.0.0.1 InLoop0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	f.link.LinkUp = false
	if slices.ContainsFunc(m.Routes(), func(r device.Route) bool { return r.Interface == "Vlan1" && r.Proto == device.RouteDirect }) {
		t.Errorf("Direct routes of a link that is down")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestNeighborsForTheDisplay(t *testing.T) {
	m, f, _, _ := newTestManager(t)
	f.neighbors = []Neighbor{
		{IP: netip.MustParseAddr("10.78.0.9"), MAC: "02:00:00:00:00:09", Confirmed: time.Minute},
		{IP: netip.MustParseAddr("10.78.0.1"), MAC: "02:00:00:00:00:01", Permanent: true},
		{IP: netip.MustParseAddr("10.78.0.255"), NoARP: true},
		{IP: netip.MustParseAddr("10.78.0.5"), Failed: true},
	}
	got := m.Neighbors()
	want := []device.Neighbor{
		{IP: netip.MustParseAddr("10.78.0.1"), MAC: "02:00:00:00:00:01", Interface: "Vlan-interface1", Static: true},
		{IP: netip.MustParseAddr("10.78.0.5"), Interface: "Vlan-interface1", Invalid: true},
		{IP: netip.MustParseAddr("10.78.0.9"), MAC: "02:00:00:00:00:09", Interface: "Vlan-interface1", Confirmed: time.Minute},
	}
	if !slices.Equal(got, want) {
		t.Errorf("neighbors %+v", got)
	}
	m2 := New(Options{})
	if st := m2.Interface(); st.Name != "Vlan-interface1" || st.LinuxName != "" || m2.Neighbors() != nil {
		t.Errorf("no interface: %+v", st)
	}
}

package netif

import (
	"bufio"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// fakeOS is a kernel in memory: one link (index 7), its addresses, the
// main table. A gateway outside every connected subnet is refused, as the
// kernel does ("Nexthop has invalid gateway").
type fakeOS struct {
	mu        sync.Mutex
	link      Link
	missing   bool
	addrs     []Addr
	routes    []KernelRoute
	neighbors []Neighbor
	snmp      SNMP
	calls     int // changes made (add/del/replace)
}

var errUnreachable = errors.New("network is unreachable")

func newFakeOS() *fakeOS {
	return &fakeOS{link: Link{Index: 7, AdminUp: true, LinkUp: true, MTU: 1500, MAC: "02:00:00:00:00:07"}}
}

func (f *fakeOS) Link(string) (Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.missing {
		return Link{}, errors.New("Link not found")
	}
	return f.link, nil
}

func (f *fakeOS) Addrs(int) ([]Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.addrs), nil
}

func (f *fakeOS) AddAddr(_ int, p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.addrs = slices.DeleteFunc(f.addrs, func(a Addr) bool { return a.Prefix == p })
	f.addrs = append(f.addrs, Addr{Prefix: p, Permanent: true})
	return nil
}

func (f *fakeOS) DelAddr(_ int, p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.addrs = slices.DeleteFunc(f.addrs, func(a Addr) bool { return a.Prefix == p })
	f.routes = slices.DeleteFunc(f.routes, func(r KernelRoute) bool { return !f.reachableLocked(r) })
	return nil
}

func (f *fakeOS) Routes() ([]KernelRoute, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.routes), nil
}

func (f *fakeOS) reachableLocked(r KernelRoute) bool {
	for _, g := range r.Gateways {
		if !slices.ContainsFunc(f.addrs, func(a Addr) bool { return a.Prefix.Masked().Contains(g) }) {
			return false
		}
	}
	return true
}

func (f *fakeOS) ReplaceRoute(r KernelRoute) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.reachableLocked(r) {
		return errUnreachable
	}
	f.calls++
	f.routes = slices.DeleteFunc(f.routes, func(o KernelRoute) bool { return o.Dest == r.Dest && o.Metric == r.Metric })
	f.routes = append(f.routes, r)
	return nil
}

func (f *fakeOS) DelRoute(r KernelRoute) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.routes = slices.DeleteFunc(f.routes, func(o KernelRoute) bool { return o.Dest == r.Dest && o.Metric == r.Metric })
	return nil
}

func (f *fakeOS) Neighbors(int) ([]Neighbor, error) { return f.neighbors, nil }
func (f *fakeOS) SNMP() (SNMP, error)               { return f.snmp, nil }
func (f *fakeOS) Close()                            {}

func (f *fakeOS) state() ([]Addr, []KernelRoute) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.addrs), slices.Clone(f.routes)
}

var (
	static24 = netip.MustParsePrefix("10.78.0.2/24")
	gw       = netip.MustParseAddr("10.78.0.1")
	gw2      = netip.MustParseAddr("10.78.0.254")
	t0       = time.Unix(1_780_000_000, 0)
)

func newTestManager(t *testing.T) (*Manager, *fakeOS, *logbuf.Buffer, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	log := logbuf.New(64, nil, clk.Now)
	f := newFakeOS()
	return New(Options{Interface: "eth1", OS: f, Clock: clk, Log: log}), f, log, clk
}

func route(dest string, pref int, hops ...netip.Addr) config.StaticRoute {
	return config.StaticRoute{Dest: netip.MustParsePrefix(dest), NextHop: hops[0], Preference: pref}
}

// logged is the mnemonics of the log buffer, with their severities.
func logged(log *logbuf.Buffer) string {
	var b strings.Builder
	for _, e := range log.Snapshot().Entries {
		b.WriteString(e.Module + "/" + string(rune('0'+e.Severity)) + "/" + e.Mnemonic + ": " + e.Text + "\n")
	}
	return b.String()
}

func TestParseSNMP(t *testing.T) {
	text := "Ip: Forwarding DefaultTTL InReceives InHdrErrors\nIp: 2 64 1000 3\n" +
		"Icmp: InMsgs InErrors InDestUnreachs InEchos InEchoReps\nIcmp: 12 1 2 4 5\n" +
		"IcmpMsg: InType0 InType3 InType9\nIcmpMsg: 5 2 1\n"
	s := parseSNMP(bufio.NewScanner(strings.NewReader(text)))
	if s["Ip"]["InHdrErrors"] != 3 || s["Icmp"]["InEchos"] != 4 || s["IcmpMsg"]["InType9"] != 1 || len(s) != 3 {
		t.Errorf("parsed %v", s)
	}
	c := icmpCounters(s)
	if c.In != 12 || c.EchoReply != 5 || c.Unreachable != 2 || c.EchoRequest != 4 || c.RouterAdvert != 1 || c.Unknown != 0 {
		t.Errorf("ICMP counters %+v", c)
	}
}

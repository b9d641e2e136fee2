//go:build linux

package netif

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/device"
)

// netlinkOS is the kernel through netlink, in the network namespace of the
// thread that opened it (the daemon's).
type netlinkOS struct {
	h *netlink.Handle
}

func newNetlinkOS() (OS, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	return &netlinkOS{h: h}, nil
}

func (n *netlinkOS) Close() { n.h.Close() }

// retry runs a dump again once when the kernel says it was interrupted by
// a change (the answer would be inconsistent).
func retry[T any](f func() (T, error)) (T, error) {
	v, err := f()
	if errors.Is(err, netlink.ErrDumpInterrupted) {
		v, err = f()
	}
	return v, err
}

func (n *netlinkOS) Link(name string) (Link, error) {
	l, err := n.h.LinkByName(name)
	if err != nil {
		return Link{}, err
	}
	a := l.Attrs()
	link := Link{Index: a.Index, AdminUp: a.Flags&net.FlagUp != 0, LinkUp: a.RawFlags&unix.IFF_LOWER_UP != 0,
		MTU: a.MTU, MAC: a.HardwareAddr.String()}
	if s := a.Statistics; s != nil {
		link.Stats = device.IfCounters{InPackets: s.RxPackets, InBytes: s.RxBytes, InMulticasts: s.Multicast,
			InDrops: s.RxDropped, InErrors: s.RxErrors, OutPackets: s.TxPackets, OutBytes: s.TxBytes,
			OutDrops: s.TxDropped, OutErrors: s.TxErrors}
	}
	return link, nil
}

func (n *netlinkOS) linkByIndex(i int) (netlink.Link, error) { return n.h.LinkByIndex(i) }

func (n *netlinkOS) Addrs(index int) ([]Addr, error) {
	l, err := n.linkByIndex(index)
	if err != nil {
		return nil, err
	}
	as, err := retry(func() ([]netlink.Addr, error) { return n.h.AddrList(l, netlink.FAMILY_V4) })
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, a := range as {
		p, ok := prefixOf(a.IPNet)
		if !ok || a.Scope == unix.RT_SCOPE_HOST {
			continue
		}
		out = append(out, Addr{Prefix: p, Permanent: a.Flags&unix.IFA_F_PERMANENT != 0, Secondary: a.Flags&unix.IFA_F_SECONDARY != 0})
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP.To4())
	bits, size := n.Mask.Size()
	if !ok || size != 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

func (n *netlinkOS) AddAddr(index int, p netip.Prefix) error {
	l, err := n.linkByIndex(index)
	if err != nil {
		return err
	}
	// Replace: the same address leased by DHCP (with a lifetime) becomes
	// permanent. netlink fills in the broadcast address.
	return n.h.AddrReplace(l, &netlink.Addr{IPNet: ipNet(p)})
}

func (n *netlinkOS) DelAddr(index int, p netip.Prefix) error {
	l, err := n.linkByIndex(index)
	if err != nil {
		return err
	}
	err = n.h.AddrDel(l, &netlink.Addr{IPNet: ipNet(p)})
	if errors.Is(err, unix.EADDRNOTAVAIL) {
		return nil
	}
	return err
}

func (n *netlinkOS) Routes() ([]KernelRoute, error) {
	rs, err := retry(func() ([]netlink.Route, error) {
		return n.h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, err
	}
	var out []KernelRoute
	for _, r := range rs {
		dest, ok := prefixOf(r.Dst)
		if !ok {
			continue
		}
		kr := KernelRoute{Dest: dest, Link: r.LinkIndex, Metric: r.Priority, Protocol: int(r.Protocol),
			LinkDown: r.Flags&unix.RTNH_F_LINKDOWN != 0 || r.Flags&unix.RTNH_F_DEAD != 0}
		if g, ok := netip.AddrFromSlice(r.Gw.To4()); ok {
			kr.Gateways = append(kr.Gateways, g)
		}
		for _, h := range r.MultiPath {
			if g, ok := netip.AddrFromSlice(h.Gw.To4()); ok {
				kr.Gateways = append(kr.Gateways, g)
				kr.Link = h.LinkIndex
			}
		}
		out = append(out, kr)
	}
	return out, nil
}

// netlinkRoute is kr as netlink writes it: one gateway, or a multipath route.
func netlinkRoute(kr KernelRoute) *netlink.Route {
	r := &netlink.Route{Dst: ipNet(kr.Dest), Priority: kr.Metric, Protocol: netlink.RouteProtocol(kr.Protocol),
		Table: unix.RT_TABLE_MAIN, Scope: netlink.SCOPE_UNIVERSE, Family: netlink.FAMILY_V4}
	if len(kr.Gateways) == 1 {
		r.LinkIndex, r.Gw = kr.Link, kr.Gateways[0].AsSlice()
		return r
	}
	for _, g := range kr.Gateways {
		r.MultiPath = append(r.MultiPath, &netlink.NexthopInfo{LinkIndex: kr.Link, Gw: g.AsSlice()})
	}
	return r
}

func (n *netlinkOS) ReplaceRoute(kr KernelRoute) error { return n.h.RouteReplace(netlinkRoute(kr)) }

func (n *netlinkOS) DelRoute(kr KernelRoute) error {
	err := n.h.RouteDel(netlinkRoute(kr))
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// userHZ is the unit of the neighbour table's times (USER_HZ, 100 on Linux).
const userHZ = 100

func (n *netlinkOS) Neighbors(index int) ([]Neighbor, error) {
	ns, err := retry(func() ([]netlink.Neigh, error) { return n.h.NeighList(index, netlink.FAMILY_V4) })
	if err != nil {
		return nil, err
	}
	var out []Neighbor
	for _, nb := range ns {
		ip, ok := netip.AddrFromSlice(nb.IP.To4())
		if !ok {
			continue
		}
		out = append(out, Neighbor{IP: ip, MAC: nb.HardwareAddr.String(),
			Permanent: nb.State&netlink.NUD_PERMANENT != 0,
			Failed:    nb.State&(netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) != 0,
			NoARP:     nb.State&netlink.NUD_NOARP != 0,
			Confirmed: time.Duration(nb.Confirmed) * time.Second / userHZ})
	}
	return out, nil
}

// SNMP reads /proc/net/snmp of the process's network namespace.
func (n *netlinkOS) SNMP() (SNMP, error) {
	f, err := os.Open("/proc/net/snmp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSNMP(bufio.NewScanner(f)), nil
}

// parseSNMP reads pairs of lines: `Sect: Name Name…` then `Sect: n n…`.
func parseSNMP(sc *bufio.Scanner) SNMP {
	out := SNMP{}
	var names []string
	header := ""
	for sc.Scan() {
		sect, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if names == nil || sect != header || len(fields) != len(names) {
			names, header = fields, sect
			continue
		}
		m := map[string]uint64{}
		for i, f := range fields {
			v, _ := strconv.ParseInt(f, 10, 64) // Ip Forwarding/DefaultTTL and Tcp MaxConn may be -1
			m[names[i]] = uint64(max(v, 0))
		}
		out[sect] = m
		names = nil
	}
	return out
}

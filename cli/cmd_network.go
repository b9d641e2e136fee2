package cli

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/netdevd/netdevd/internal/config"
)

// Static addressing and routing:
//
//	ip address A.B.C.D { MASK | MASK-LENGTH }     Vlan-interface view
//	ip address dhcp-alloc
//	undo ip address [ A.B.C.D { MASK | MASK-LENGTH } ]
//	undo ip address dhcp-alloc
//	ip route-static DEST { MASK | MASK-LENGTH } NEXT-HOP [ preference PREFERENCE ]
//	undo ip route-static DEST { MASK | MASK-LENGTH } [ NEXT-HOP ]   system view
//
// One address method at a time, as on Comware: a static address replaces
// dhcp-alloc (the DHCP client releases its lease and stops) and dhcp-alloc
// replaces a static address. The daemon applies both to the Linux
// interface (cmd/netdevd/daemon/network.go).

var (
	errStaticRouteLimit = failure("The number of static routes reached the upper limit.")

	// A mask in dotted form: contiguous ones, then zeros.
	maskValue = &valueSpec{label: "X.X.X.X", min: 7, max: 15, check: func(s string) bool { _, ok := parseMask(s, 0); return ok }}
	// A route destination: 0.0.0.0 (the default route) or a unicast network.
	routeDestValue  = &valueSpec{label: "X.X.X.X", min: 7, max: 15, check: validRouteDest}
	addrMaskLength  = intRange(1, 32)
	routeMaskLength = intRange(0, 32)
	preferenceValue = intRange(1, 255)
)

// parseMask reads a mask as a prefix length (`24`) or in dotted form
// (`255.255.255.0`); a dotted mask must be contiguous. Lengths below
// minBits are refused.
func parseMask(word string, minBits int) (int, bool) {
	if n, ok := parseDecimal(word); ok {
		return n, n >= minBits && n <= 32
	}
	a, err := netip.ParseAddr(word)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for bits < 32 && v&(1<<(31-bits)) != 0 {
		bits++
	}
	if bits < 32 && v<<bits != 0 {
		return 0, false // a one after a zero: not contiguous
	}
	return bits, bits >= minBits
}

// parseInterfaceAddress is `ip address A.B.C.D MASK`: a usable host address
// of its subnet (config.UsableHostAddress).
func parseInterfaceAddress(addr, mask string) (netip.Prefix, bool) {
	a, ok := parseIPv4(addr)
	bits, okMask := parseMask(mask, 1)
	if !ok || !okMask {
		return netip.Prefix{}, false
	}
	p := netip.PrefixFrom(a, bits)
	return p, config.UsableHostAddress(p)
}

// parseRouteDest is a route's DEST MASK as a network: host bits cleared.
func parseRouteDest(dest, mask string) (netip.Prefix, bool) {
	bits, okMask := parseMask(mask, 0)
	if !validRouteDest(dest) || !okMask {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(netip.MustParseAddr(dest), bits).Masked(), true
}

func validRouteDest(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4() && (a.IsUnspecified() || config.UnicastIPv4(a))
}

// maskChoice is `{ MASK | MASK-LENGTH }` followed by next (built per use:
// nodes are not shared between parents that mark them runnable).
func maskChoice(lengths *valueSpec, next func() []*node, run handler) []*node {
	length := val("mask", lengths, "IP mask length", next()...)
	dotted := val("mask", maskValue, "IP mask", next()...)
	if run != nil {
		length.does(run)
		dotted.does(run)
	}
	return []*node{length, dotted}
}

// ipAddressCommand is `ip address …` of Vlan-interface view, or its undo.
func ipAddressCommand(undo bool) *node {
	dhcp := kw("dhcp-alloc", "Obtain an IP address through DHCP").does(runDHCPAlloc)
	set, address := runIPAddress, kw("address", "Set the IP address of an interface")
	if undo {
		dhcp.run, set = runUndoDHCPAlloc, runUndoIPAddress
		address.does(runUndoIPAddress)
	}
	none := func() []*node { return nil }
	addr := val("addr", ipv4Addr, "IP address", maskChoice(addrMaskLength, none, set)...)
	address.next = []*node{dhcp, addr}
	return kw("ip", "Specify IP configuration", address)
}

// routeStaticCommand is `ip route-static …` (under system view's `ip`), or
// its undo (next hop optional, no preference).
func routeStaticCommand(undo bool) *node {
	h := runRouteStatic
	if undo {
		h = runUndoRouteStatic
	}
	nextHop := func() []*node {
		hop := val("nexthop", ipv4Addr, "IP address of the next hop").does(h)
		if !undo {
			hop.next = []*node{kw("preference", "Specify the preference of the static route",
				val("preference", preferenceValue, "Preference value").does(h))}
		}
		return []*node{hop}
	}
	var run handler
	if undo {
		run = h // the next hop is optional: every route to DEST MASK
	}
	return kw("route-static", "Configure a static route",
		val("dest", routeDestValue, "Destination IP address", maskChoice(routeMaskLength, nextHop, run)...))
}

func runIPAddress(e *invocation) error {
	if _, ok := parseMask(e.arg("mask"), 1); !ok {
		return e.wrongParameter("mask")
	}
	p, ok := parseInterfaceAddress(e.arg("addr"), e.arg("mask"))
	if !ok {
		return e.wrongParameter("addr")
	}
	return e.update(func(c *config.Config) error {
		c.Vlan1.Address, c.Vlan1.DHCPAlloc = p, false
		return nil
	})
}

// runUndoIPAddress removes the static address; with an address, only when
// it is that one (silent otherwise). dhcp-alloc has its own undo.
func runUndoIPAddress(e *invocation) error {
	var only netip.Prefix
	if e.has("addr") {
		a, _ := parseIPv4(e.arg("addr"))
		bits, _ := parseMask(e.arg("mask"), 1)
		only = netip.PrefixFrom(a, bits)
	}
	return e.update(func(c *config.Config) error {
		if !only.IsValid() || c.Vlan1.Address == only {
			c.Vlan1.Address = netip.Prefix{}
		}
		return nil
	})
}

var (
	runDHCPAlloc = setter(func(e *invocation, c *config.Config) {
		c.Vlan1.DHCPAlloc, c.Vlan1.Address = true, netip.Prefix{}
	})
	runUndoDHCPAlloc = setter(func(e *invocation, c *config.Config) { c.Vlan1.DHCPAlloc = false })
)

// runRouteStatic adds a route, or changes the preference of the route with
// the same destination, mask and next hop.
func runRouteStatic(e *invocation) error {
	dest, ok := parseRouteDest(e.arg("dest"), e.arg("mask"))
	if !ok {
		return e.wrongParameter("dest")
	}
	hop := e.addr("nexthop")
	if !config.UnicastIPv4(hop) {
		return e.wrongParameter("nexthop")
	}
	r := config.StaticRoute{Dest: dest, NextHop: hop, Preference: config.DefaultStaticPreference}
	if e.has("preference") {
		r.Preference = e.number("preference")
	}
	return e.update(func(c *config.Config) error {
		for i := range c.StaticRoutes {
			if c.StaticRoutes[i].SameRoute(r) {
				c.StaticRoutes[i] = r
				return nil
			}
		}
		if len(c.StaticRoutes) >= config.MaxStaticRoutes {
			return errStaticRouteLimit
		}
		c.StaticRoutes = append(c.StaticRoutes, r)
		return nil
	})
}

// runUndoRouteStatic removes the route to DEST MASK through NEXT-HOP, or
// every route to DEST MASK without a next hop.
func runUndoRouteStatic(e *invocation) error {
	dest, ok := parseRouteDest(e.arg("dest"), e.arg("mask"))
	if !ok {
		return e.wrongParameter("dest")
	}
	hop, anyHop := e.addr("nexthop"), !e.has("nexthop")
	return e.update(func(c *config.Config) error {
		c.StaticRoutes = slices.DeleteFunc(c.StaticRoutes, func(r config.StaticRoute) bool {
			return r.Dest == dest && (anyHop || r.NextHop == hop)
		})
		if len(c.StaticRoutes) == 0 {
			c.StaticRoutes = nil
		}
		return nil
	})
}

// ipAddressLine is the interface block's address line.
func ipAddressLine(cfg config.Config) []string {
	switch p := cfg.Vlan1.Address; {
	case p.IsValid():
		return []string{" ip address " + p.Addr().String() + " " + config.MaskString(p.Bits())}
	case cfg.Vlan1.DHCPAlloc:
		return []string{" ip address dhcp-alloc"}
	}
	return nil
}

// staticRouteSection is ` ip route-static DEST LENGTH NEXT-HOP [ preference N ]`
// per route, in the order typed, as Comware writes them (mask as a length).
func staticRouteSection(cfg config.Config) []string {
	var lines []string
	for _, r := range cfg.StaticRoutes {
		line := " ip route-static " + r.Dest.Addr().String() + " " + strconv.Itoa(r.Dest.Bits()) + " " + r.NextHop.String()
		if r.Preference != config.DefaultStaticPreference {
			line += " preference " + strconv.Itoa(r.Preference)
		}
		lines = append(lines, line)
	}
	return lines
}

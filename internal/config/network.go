package config

import (
	"fmt"
	"net/netip"
	"slices"
)

// Static addressing and routing: `ip address A.B.C.D MASK` in
// `interface Vlan-interface1` and `ip route-static` in system view.
const (
	DefaultStaticPreference = 60  // Comware's preference of a static route
	MaxStaticRoutes         = 256 // ours: keeps the configuration and the kernel table bounded
)

// StaticRoute is `ip route-static DEST MASK NEXT-HOP [ preference N ]`.
// Dest has its host bits cleared; Preference is 1-255 (60 when not typed).
type StaticRoute struct {
	Dest       netip.Prefix
	NextHop    netip.Addr
	Preference int
}

// SameRoute reports whether r and o are the same route: Comware keys a
// static route by destination, mask and next hop; a second line with a new
// preference changes the route in place.
func (r StaticRoute) SameRoute(o StaticRoute) bool {
	return r.Dest == o.Dest && r.NextHop == o.NextHop
}

// UsableHostAddress reports whether p is an address an interface may have:
// unicast, not loopback, not in 0.0.0.0/8 or 240.0.0.0/4, and, for masks
// shorter than /31, neither the network nor the broadcast address of its
// subnet (RFC 3021 lets /31 use both).
func UsableHostAddress(p netip.Prefix) bool {
	a := p.Addr()
	if !a.Is4() || p.Bits() < 1 || p.Bits() > 32 || !UnicastIPv4(a) {
		return false
	}
	if p.Bits() >= 31 {
		return true
	}
	return a != p.Masked().Addr() && a != BroadcastAddr(p)
}

// UnicastIPv4 reports whether a may be a host's address or a next hop:
// not 0.0.0.0/8, not loopback, not multicast, not 240.0.0.0/4 (class E and
// the limited broadcast).
func UnicastIPv4(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] != 0 && b[0] != 127 && b[0] < 224
}

// BroadcastAddr is the directed broadcast address of p's subnet.
func BroadcastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}

// MaskString is the dotted form of a prefix length (24 → 255.255.255.0).
func MaskString(bits int) string {
	var b [4]byte
	for i := 0; i < bits; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b).String()
}

func cloneRoutes(rs []StaticRoute) []StaticRoute { return slices.Clone(rs) }

// validateNetwork checks the static address and routes as the grammar would.
func (c Config) validateNetwork() error {
	if p := c.Vlan1.Address; p.IsValid() {
		if !UsableHostAddress(p) {
			return fmt.Errorf("Vlan-interface1 address %s is not a usable host address", p)
		}
		if c.Vlan1.DHCPAlloc {
			return fmt.Errorf("Vlan-interface1 has both a static address and dhcp-alloc")
		}
	}
	if len(c.StaticRoutes) > MaxStaticRoutes {
		return fmt.Errorf("%d static routes, at most %d", len(c.StaticRoutes), MaxStaticRoutes)
	}
	for i, r := range c.StaticRoutes {
		switch {
		case !r.Dest.IsValid() || !r.Dest.Addr().Is4() || r.Dest != r.Dest.Masked():
			return fmt.Errorf("static route destination %s is not a network", r.Dest)
		case !UnicastIPv4(r.NextHop):
			return fmt.Errorf("static route next hop %s is not a unicast address", r.NextHop)
		case r.Preference < 1 || r.Preference > 255:
			return fmt.Errorf("static route preference %d out of 1-255", r.Preference)
		}
		for _, o := range c.StaticRoutes[:i] {
			if o.SameRoute(r) {
				return fmt.Errorf("static route %s via %s configured twice", r.Dest, r.NextHop)
			}
		}
	}
	return nil
}

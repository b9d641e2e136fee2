package cli

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

// FuzzAddressMask: the address and mask parsers accept exactly what they
// should. A mask is accepted only when contiguous, and its length renders
// back to the same mask; an accepted interface address is a usable host
// address of its subnet; an accepted route destination is a network whose
// rendering (as the configuration writes it) parses back to itself.
func FuzzAddressMask(f *testing.F) {
	for _, seed := range [][2]string{
		{"10.78.0.2", "255.255.255.0"}, {"10.78.0.2", "24"}, {"10.78.0.0", "24"}, {"10.78.0.255", "24"},
		{"0.0.0.0", "0"}, {"224.0.0.1", "4"}, {"127.0.0.1", "8"}, {"10.0.0.1", "255.0.255.0"},
		{"10.0.0.1", "255.255.255.254"}, {"1.2.3.4", "32"}, {"1.2.3.4", "033"}, {"1.2.3.4", " 24"}, {"01.2.3.4", "24"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, addr, mask string) {
		bits, ok := parseMask(mask, 0)
		if ok {
			if bits < 0 || bits > 32 {
				t.Fatalf("mask %q: %d bits", mask, bits)
			}
			if again, ok2 := parseMask(config.MaskString(bits), 0); !ok2 || again != bits {
				t.Fatalf("mask %q → %d bits → %s → %d, %v", mask, bits, config.MaskString(bits), again, ok2)
			}
			if _, err := strconv.Atoi(mask); err != nil && config.MaskString(bits) != mask {
				if a, err := netip.ParseAddr(mask); err == nil && a.String() == mask {
					t.Fatalf("dotted mask %q read as %d bits (%s)", mask, bits, config.MaskString(bits))
				}
			}
		}
		if p, ok := parseInterfaceAddress(addr, mask); ok {
			if !config.UsableHostAddress(p) || p.Addr().String() != addr {
				t.Fatalf("ip address %s %s accepted as %s", addr, mask, p)
			}
			if p == p.Masked() && p.Bits() < 31 {
				t.Fatalf("network address %s accepted", p)
			}
			if p.Bits() < 31 && p.Addr() == config.BroadcastAddr(p) {
				t.Fatalf("broadcast address %s accepted", p)
			}
		}
		if d, ok := parseRouteDest(addr, mask); ok {
			if d != d.Masked() || d.Addr().IsMulticast() || d.Addr().IsLoopback() {
				t.Fatalf("route-static %s %s accepted as %s", addr, mask, d)
			}
			if again, ok := parseRouteDest(d.Addr().String(), strconv.Itoa(d.Bits())); !ok || again != d {
				t.Fatalf("route destination %s does not parse back: %v %v", d, again, ok)
			}
		}
	})
}

package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestUsableHostAddress(t *testing.T) {
	for p, want := range map[string]bool{
		"10.78.0.2/24": true, "10.78.0.0/24": false, "10.78.0.255/24": false, "10.1.0.0/31": true, "10.1.0.1/31": true,
		"10.1.0.7/32": true, "0.1.2.3/8": false, "127.0.0.2/8": false, "224.0.0.5/24": false, "240.0.0.1/8": false,
		"192.0.2.128/25": false, "192.0.2.129/25": true, "10.0.0.1/0": false,
	} {
		if got := UsableHostAddress(netip.MustParsePrefix(p)); got != want {
			t.Errorf("%s: %v, want %v", p, got, want)
		}
	}
	if b := BroadcastAddr(netip.MustParsePrefix("192.0.2.130/25")); b.String() != "192.0.2.255" {
		t.Errorf("broadcast %s", b)
	}
	for bits, want := range map[int]string{0: "0.0.0.0", 8: "255.0.0.0", 20: "255.255.240.0", 32: "255.255.255.255"} {
		if got := MaskString(bits); got != want {
			t.Errorf("MaskString(%d) = %s", bits, got)
		}
	}
}

// Validate refuses what the grammar refuses, so that no API client can
// store it.
func TestValidateNetwork(t *testing.T) {
	route := func(dest, hop string, pref int) StaticRoute {
		return StaticRoute{Dest: netip.MustParsePrefix(dest), NextHop: netip.MustParseAddr(hop), Preference: pref}
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"ok", func(c *Config) {
			c.Vlan1.Address = netip.MustParsePrefix("10.78.0.2/24")
			c.StaticRoutes = []StaticRoute{route("0.0.0.0/0", "10.78.0.1", 60), route("0.0.0.0/0", "10.78.0.254", 60)}
		}, ""},
		{"network address", func(c *Config) { c.Vlan1.Address = netip.MustParsePrefix("10.78.0.0/24") }, "not a usable host address"},
		{"both methods", func(c *Config) {
			c.Vlan1.Address, c.Vlan1.DHCPAlloc = netip.MustParsePrefix("10.78.0.2/24"), true
		}, "both"},
		{"host bits", func(c *Config) { c.StaticRoutes = []StaticRoute{route("10.1.1.1/8", "10.78.0.1", 60)} }, "not a network"},
		{"next hop", func(c *Config) { c.StaticRoutes = []StaticRoute{route("10.0.0.0/8", "127.0.0.1", 60)} }, "next hop"},
		{"preference", func(c *Config) { c.StaticRoutes = []StaticRoute{route("10.0.0.0/8", "10.78.0.1", 0)} }, "preference"},
		{"twice", func(c *Config) {
			c.StaticRoutes = []StaticRoute{route("10.0.0.0/8", "10.78.0.1", 60), route("10.0.0.0/8", "10.78.0.1", 70)}
		}, "twice"},
		{"limit", func(c *Config) {
			for i := 0; i <= MaxStaticRoutes; i++ {
				c.StaticRoutes = append(c.StaticRoutes, StaticRoute{Dest: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24),
					NextHop: netip.MustParseAddr("192.0.2.1"), Preference: 60})
			}
		}, "at most"},
	}
	for _, tt := range tests {
		c := Default()
		tt.change(&c)
		err := c.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if clone := c.Clone(); len(clone.StaticRoutes) > 0 && &clone.StaticRoutes[0] == &c.StaticRoutes[0] {
			t.Errorf("%s: Clone shares the routes", tt.name)
		}
	}
}

package cli

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

const vlanPrompt = 25 // [netdevd-Vlan-interface1]

var intoVlan = []string{"system-view", "interface Vlan-interface1"}

func TestIPAddressCommands(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		name  string
		lines []string
		addr  netip.Prefix
		dhcp  bool
	}{
		{"dotted mask", []string{"ip address 10.78.0.2 255.255.255.0"}, pfx("10.78.0.2/24"), false},
		{"mask length", []string{"ip address 10.78.0.2 24"}, pfx("10.78.0.2/24"), false},
		{"abbreviated", []string{"ip add 192.0.2.9 25"}, pfx("192.0.2.9/25"), false},
		{"/31 both ends usable", []string{"ip address 10.1.0.0 31"}, pfx("10.1.0.0/31"), false},
		{"/32", []string{"ip address 10.1.0.7 255.255.255.255"}, pfx("10.1.0.7/32"), false},
		{"replaces dhcp-alloc", []string{"ip address dhcp-alloc", "ip address 10.78.0.2 24"}, pfx("10.78.0.2/24"), false},
		{"dhcp-alloc replaces it", []string{"ip address 10.78.0.2 24", "ip address dhcp-alloc"}, netip.Prefix{}, true},
		{"a second replaces the first", []string{"ip address 10.78.0.2 24", "ip address 10.9.0.1 16"}, pfx("10.9.0.1/16"), false},
		{"undo", []string{"ip address 10.78.0.2 24", "undo ip address"}, netip.Prefix{}, false},
		{"undo that address", []string{"ip address 10.78.0.2 24", "undo ip address 10.78.0.2 255.255.255.0"}, netip.Prefix{}, false},
		{"undo another address is silent", []string{"ip address 10.78.0.2 24", "undo ip address 10.78.0.3 24"}, pfx("10.78.0.2/24"), false},
		{"undo keeps dhcp-alloc", []string{"ip address dhcp-alloc", "undo ip address"}, netip.Prefix{}, true},
		{"undo dhcp-alloc keeps the address", []string{"ip address 10.78.0.2 24", "undo ip address dhcp-alloc"}, pfx("10.78.0.2/24"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configAfter(t, append(slices.Clone(intoVlan), tt.lines...)...)
			if c.Vlan1.Address != tt.addr || c.Vlan1.DHCPAlloc != tt.dhcp {
				t.Errorf("address %v dhcp-alloc %v, want %v %v", c.Vlan1.Address, c.Vlan1.DHCPAlloc, tt.addr, tt.dhcp)
			}
		})
	}
}

// Bad input gets Wrong parameter at the offending word and changes nothing.
func TestIPAddressRefused(t *testing.T) {
	const at = vlanPrompt + len("ip address ")
	tests := []struct {
		line string
		col  int
	}{
		{"ip address 10.78.0.0 24", at},                                // network address
		{"ip address 10.78.0.255 255.255.255.0", at},                   // broadcast address
		{"ip address 0.0.0.0 8", at},                                   // unspecified
		{"ip address 0.1.2.3 24", at},                                  // 0.0.0.0/8
		{"ip address 224.0.0.5 24", at},                                // multicast
		{"ip address 127.0.0.2 8", at},                                 // loopback
		{"ip address 240.0.0.1 8", at},                                 // class E
		{"ip address 255.255.255.255 32", at},                          // limited broadcast
		{"ip address 10.78.0.2 255.0.255.0", at + len("10.78.0.2 ")},   // non-contiguous mask
		{"ip address 10.78.0.2 255.255.255.1", at + len("10.78.0.2 ")}, // non-contiguous mask
		{"ip address 10.78.0.2 33", at + len("10.78.0.2 ")},            // length out of range
		{"ip address 10.78.0.2 0", at + len("10.78.0.2 ")},             // no mask
		{"ip address 10.78.0.2 0.0.0.0", at + len("10.78.0.2 ")},       // no mask, dotted
		{"ip address 10.78.2 24", at},                                  // not an address
	}
	for _, tt := range tests {
		s, d := newTestSession(admin)
		run(t, s, intoVlan...)
		run(t, s, "ip address 192.0.2.1 24")
		before := Render(d.cfg)
		out, ok := run(t, s, tt.line)
		if ok || out != caret(tt.col, wrongParam) {
			t.Errorf("%q: ok=%v\n%s", tt.line, ok, out)
		}
		if Render(d.cfg) != before {
			t.Errorf("%q changed the configuration", tt.line)
		}
	}
}

func TestStaticRouteCommands(t *testing.T) {
	r := func(dest, hop string, pref int) config.StaticRoute {
		return config.StaticRoute{Dest: netip.MustParsePrefix(dest), NextHop: netip.MustParseAddr(hop), Preference: pref}
	}
	tests := []struct {
		name  string
		lines []string
		want  []config.StaticRoute
	}{
		{"default route", []string{"ip route-static 0.0.0.0 0 10.78.0.1"}, []config.StaticRoute{r("0.0.0.0/0", "10.78.0.1", 60)}},
		{"dotted mask", []string{"ip route-static 0.0.0.0 0.0.0.0 10.78.0.1"}, []config.StaticRoute{r("0.0.0.0/0", "10.78.0.1", 60)}},
		{"preference", []string{"ip route-static 198.51.100.0 24 10.78.0.1 preference 10"}, []config.StaticRoute{r("198.51.100.0/24", "10.78.0.1", 10)}},
		{"host bits cleared", []string{"ip route-static 198.51.100.77 255.255.255.0 10.78.0.1"}, []config.StaticRoute{r("198.51.100.0/24", "10.78.0.1", 60)}},
		{"same route new preference", []string{"ip route-static 0.0.0.0 0 10.78.0.1", "ip route-static 0.0.0.0 0 10.78.0.1 preference 100"},
			[]config.StaticRoute{r("0.0.0.0/0", "10.78.0.1", 100)}},
		{"two next hops", []string{"ip route-static 0.0.0.0 0 10.78.0.1", "ip route-static 0.0.0.0 0 10.78.0.254 preference 70"},
			[]config.StaticRoute{r("0.0.0.0/0", "10.78.0.1", 60), r("0.0.0.0/0", "10.78.0.254", 70)}},
		{"undo one next hop", []string{"ip route-static 0.0.0.0 0 10.78.0.1", "ip route-static 0.0.0.0 0 10.78.0.254", "undo ip route-static 0.0.0.0 0 10.78.0.1"},
			[]config.StaticRoute{r("0.0.0.0/0", "10.78.0.254", 60)}},
		{"undo every next hop", []string{"ip route-static 0.0.0.0 0 10.78.0.1", "ip route-static 0.0.0.0 0 10.78.0.254", "ip route-static 10.0.0.0 8 10.78.0.1", "undo ip route-static 0.0.0.0 0"},
			[]config.StaticRoute{r("10.0.0.0/8", "10.78.0.1", 60)}},
		{"undo absent is silent", []string{"undo ip route-static 10.0.0.0 8 10.78.0.1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configAfter(t, append([]string{"system-view"}, tt.lines...)...)
			if !slices.Equal(c.StaticRoutes, tt.want) {
				t.Errorf("routes %v, want %v", c.StaticRoutes, tt.want)
			}
		})
	}
}

func TestStaticRouteRefused(t *testing.T) {
	const at = 9 + len("ip route-static ")
	tests := []struct {
		line string
		col  int
	}{
		{"ip route-static 224.0.0.0 4 10.78.0.1", at},
		{"ip route-static 127.0.0.0 8 10.78.0.1", at},
		{"ip route-static 10.0.0.0 255.0.0.255 10.78.0.1", at + len("10.0.0.0 ")},
		{"ip route-static 10.0.0.0 33 10.78.0.1", at + len("10.0.0.0 ")},
		{"ip route-static 10.0.0.0 8 0.0.0.0", at + len("10.0.0.0 8 ")},
		{"ip route-static 10.0.0.0 8 127.0.0.1", at + len("10.0.0.0 8 ")},
		{"ip route-static 10.0.0.0 8 224.0.0.1", at + len("10.0.0.0 8 ")},
		{"ip route-static 10.0.0.0 8 10.78.0.1 preference 0", at + len("10.0.0.0 8 10.78.0.1 preference ")},
		{"ip route-static 10.0.0.0 8 10.78.0.1 preference 256", at + len("10.0.0.0 8 10.78.0.1 preference ")},
	}
	for _, tt := range tests {
		s, d := newTestSession(admin)
		run(t, s, "system-view")
		out, ok := run(t, s, tt.line)
		if ok || out != caret(tt.col, wrongParam) {
			t.Errorf("%q: ok=%v\n%s", tt.line, ok, out)
		}
		if len(d.cfg.StaticRoutes) != 0 {
			t.Errorf("%q stored %v", tt.line, d.cfg.StaticRoutes)
		}
	}
	s, _ := newTestSession(admin)
	if out, ok := run(t, s, "system-view", "ip route-static 10.0.0.0 8"); ok || out != caret(9+26, incomplete) {
		t.Errorf("no next hop: ok=%v\n%s", ok, out)
	}
}

// Past config.MaxStaticRoutes a new route is refused with Comware's limit
// line; changing an existing one still works.
func TestStaticRouteLimit(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	for i := 0; i < config.MaxStaticRoutes; i++ {
		line := "ip route-static 10." + itoa(i/256) + "." + itoa(i%256) + ".0 24 192.0.2.1"
		if out, ok := run(t, s, line); !ok {
			t.Fatalf("%q: %s", line, out)
		}
	}
	out, ok := run(t, s, "ip route-static 172.16.0.0 12 192.0.2.1")
	if ok || out != " % The number of static routes reached the upper limit.\n" {
		t.Errorf("route %d: ok=%v %q", config.MaxStaticRoutes+1, ok, out)
	}
	if _, ok := run(t, s, "ip route-static 10.0.0.0 24 192.0.2.1 preference 5"); !ok || d.cfg.StaticRoutes[0].Preference != 5 {
		t.Errorf("changing a route at the limit failed")
	}
	if len(d.cfg.StaticRoutes) != config.MaxStaticRoutes {
		t.Errorf("%d routes", len(d.cfg.StaticRoutes))
	}
}

func TestNetworkRenderAndReplay(t *testing.T) {
	c := configAfter(t, "system-view", "interface Vlan-interface1", "ip address 10.78.0.2 24", "quit",
		"ip route-static 0.0.0.0 0 10.78.0.1", "ip route-static 198.51.100.0 255.255.255.0 10.78.0.254 preference 30")
	got := Render(c)
	// The interface, then the routes, each its own section, between the
	// sections every configuration has (version, sysname, lines).
	want := "#\ninterface Vlan-interface1\n ip address 10.78.0.2 255.255.255.0\n#\n" +
		" ip route-static 0.0.0.0 0 10.78.0.1\n ip route-static 198.51.100.0 24 10.78.0.254 preference 30\n#\n"
	if !strings.Contains(got, want) {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
	d := newFakeDevice()
	if errs := Replay(t.Context(), d, got); len(errs) != 0 {
		t.Fatalf("replay: %v", errs)
	}
	if Render(d.cfg) != got {
		t.Errorf("round trip:\n%s", Render(d.cfg))
	}
	s, _ := newTestSession(admin)
	s.dev.(*fakeDevice).cfg = c
	out, _ := run(t, s, "system-view", "interface Vlan-interface1", "display this")
	if out != "#\ninterface Vlan-interface1\n ip address 10.78.0.2 255.255.255.0\n#\nreturn\n" {
		t.Errorf("display this:\n%s", out)
	}
}

func TestOperatorMayNotConfigureAddresses(t *testing.T) {
	s, _ := newTestSession(operator)
	for _, line := range []string{"ping 192.0.2.1", "tracert 192.0.2.1"} {
		if out, ok := run(t, s, line); ok || out != "Permission denied.\n" {
			t.Errorf("%q as operator: %v %q", line, ok, out)
		}
	}
	if _, ok := run(t, s, "display ip routing-table"); !ok {
		t.Errorf("operator may not display the routing table")
	}
}

package cli

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// The layouts below follow output captured from Comware 7 devices (the
// public ntc-templates hp_comware samples and H3C's command references),
// reproduced here with this project's own values.

func testInterface() device.InterfaceStatus {
	return device.InterfaceStatus{
		Name: "Vlan-interface1", LinuxName: "eth1", AdminUp: true, LinkUp: true, MTU: 1500,
		MAC: "02:5c:8a:38:49:a0", Addr: netip.MustParsePrefix("10.78.0.2/24"), AddrOrigin: device.AddrStatic,
		Description: "Vlan-interface1 Interface",
		Counters: device.IfCounters{InPackets: 3370, InBytes: 412300, InMulticasts: 12, InDrops: 1,
			OutPackets: 2900, OutBytes: 380000, OutDrops: 0},
		InRate: device.Rate{BytesPerSec: 125, PacketsPerSec: 2}, OutRate: device.Rate{BytesPerSec: 90, PacketsPerSec: 1},
		RateWindow: 300 * time.Second,
		ICMP:       device.ICMPCounters{In: 17, EchoReply: 9, Unreachable: 3, EchoRequest: 4, TimeExceeded: 1},
		TTLInvalid: 2,
	}
}

func TestDisplayInterfaceBrief(t *testing.T) {
	want := "Brief information on interfaces in route mode:\n" +
		"Link: ADM - administratively down; Stby - standby\n" +
		"Protocol: (s) - spoofing\n" +
		"Interface            Link Protocol Primary IP      Description\n" +
		"Vlan1                UP   UP       10.78.0.2\n"
	if got := InterfaceBrief(testInterface()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	st := testInterface()
	st.AdminUp, st.Addr, st.AddrOrigin = false, netip.Prefix{}, ""
	if got := InterfaceBrief(st); got[len(got)-len("Vlan1                ADM  DOWN     --\n"):] != "Vlan1                ADM  DOWN     --\n" {
		t.Errorf("down, no address:\n%s", got)
	}
}

func TestDisplayInterfaceDetail(t *testing.T) {
	want := "Vlan-interface1\n" +
		"Current state: UP\n" +
		"Line protocol state: UP\n" +
		"Description: Vlan-interface1 Interface\n" +
		"Bandwidth: 1000000 kbps\n" +
		"Maximum transmission unit: 1500\n" +
		"Internet address: 10.78.0.2/24 (Primary)\n" +
		"IP packet frame type: Ethernet II, hardware address: 025c-8a38-49a0\n" +
		"IPv6 packet frame type: Ethernet II, hardware address: 025c-8a38-49a0\n" +
		"Last clearing of counters: Never\n" +
		"Last 300 seconds input rate: 125 bytes/sec, 1000 bits/sec, 2 packets/sec\n" +
		"Last 300 seconds output rate: 90 bytes/sec, 720 bits/sec, 1 packets/sec\n" +
		"Input: 3370 packets, 412300 bytes, 1 drops\n" +
		"Output: 2900 packets, 380000 bytes, 0 drops\n"
	if got := InterfaceDetail(testInterface()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	st := testInterface()
	st.LinkUp, st.AddrOrigin = false, device.AddrDHCP
	st.RateWindow = 40 * time.Second
	got := InterfaceDetail(st)
	for _, line := range []string{"Current state: DOWN\n", "Line protocol state: DOWN\n",
		"Internet address: 10.78.0.2/24 (DHCP-allocated)\n", "Last 40 seconds input rate:"} {
		if !contains(got, line) {
			t.Errorf("DHCP address, link down: no %q in\n%s", line, got)
		}
	}
	st.Addr, st.AddrOrigin = netip.Prefix{}, ""
	if got := InterfaceDetail(st); !contains(got, "Internet protocol processing: Disabled\n") {
		t.Errorf("no address:\n%s", got)
	}
}

func TestDisplayIPInterfaceBrief(t *testing.T) {
	want := "*down: administratively down\n(s): spoofing\n" +
		"Interface                     Physical Protocol IP Address      Description\n" +
		"Vlan1                         up       up       10.78.0.2       Vlan-inte...\n"
	if got := IPInterfaceBrief(testInterface()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDisplayIPInterfaceDetail(t *testing.T) {
	want := "Vlan-interface1 current state: UP\n" +
		"Line protocol current state: UP\n" +
		"Internet Address is 10.78.0.2/24 Primary\n" +
		"Broadcast address: 10.78.0.255\n" +
		"The Maximum Transmit Unit: 1500 bytes\n" +
		"input packets : 3370, bytes : 412300, multicasts : 12\n" +
		"output packets : 2900, bytes : 380000, multicasts : -\n" +
		"TTL invalid packet number:         2\n" +
		"ICMP packet input number:         17\n" +
		"  Echo reply:                      9\n" +
		"  Unreachable:                     3\n" +
		"  Source quench:                   0\n" +
		"  Routing redirect:                0\n" +
		"  Echo request:                    4\n" +
		"  Router advert:                   0\n" +
		"  Router solicit:                  0\n" +
		"  Time exceed:                     1\n" +
		"  IP header bad:                   0\n" +
		"  Timestamp request:               0\n" +
		"  Timestamp reply:                 0\n" +
		"  Information request:             0\n" +
		"  Information reply:               0\n" +
		"  Netmask request:                 0\n" +
		"  Netmask reply:                   0\n" +
		"  Unknown type:                    0\n"
	if got := IPInterfaceDetail(testInterface()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	st := testInterface()
	st.Addr, st.AddrOrigin = netip.Prefix{}, ""
	if got := IPInterfaceDetail(st); got != "Vlan-interface1 current state: UP\nLine protocol current state: DOWN\nInternet protocol processing : disabled\n" {
		t.Errorf("no address:\n%s", got)
	}
	st = testInterface()
	st.AddrOrigin = device.AddrDHCP
	if got := IPInterfaceDetail(st); !contains(got, "Internet Address is 10.78.0.2/24 DHCP-Allocated\n") {
		t.Errorf("DHCP:\n%s", got)
	}
}

func TestDisplayRoutingTable(t *testing.T) {
	a, p := netip.MustParseAddr, netip.MustParsePrefix
	routes := []device.Route{
		{Dest: p("0.0.0.0/0"), Proto: device.RouteStatic, Pre: 60, NextHop: a("10.78.0.1"), Interface: "Vlan1"},
		{Dest: p("0.0.0.0/0"), Proto: device.RouteStatic, Pre: 60, NextHop: a("10.78.0.254"), Interface: "Vlan1"},
		{Dest: p("0.0.0.0/0"), Proto: device.RouteDHCP, Pre: 1000, NextHop: a("10.78.0.9"), Interface: "Vlan1"},
		{Dest: p("10.78.0.0/24"), Proto: device.RouteDirect, NextHop: a("10.78.0.2"), Interface: "Vlan1"},
		{Dest: p("10.78.0.2/32"), Proto: device.RouteDirect, NextHop: a("127.0.0.1"), Interface: "InLoop0"},
		{Dest: p("127.255.255.255/32"), Proto: device.RouteDirect, NextHop: a("127.0.0.1"), Interface: "InLoop0"},
	}
	want := "\nDestinations : 4        Routes : 6\n\n" +
		"Destination/Mask   Proto   Pre Cost        NextHop         Interface\n" +
		"0.0.0.0/0          Static  60  0           10.78.0.1       Vlan1\n" +
		"                   Static  60  0           10.78.0.254     Vlan1\n" +
		"                   DHCP    1000 0           10.78.0.9       Vlan1\n" +
		"10.78.0.0/24       Direct  0   0           10.78.0.2       Vlan1\n" +
		"10.78.0.2/32       Direct  0   0           127.0.0.1       InLoop0\n" +
		"127.255.255.255/32 Direct  0   0           127.0.0.1       InLoop0\n"
	if got := RoutingTable(routes); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDisplayARP(t *testing.T) {
	ns := []device.Neighbor{
		{IP: netip.MustParseAddr("10.78.0.1"), MAC: "02:1e:c1:dc:fc:01", Interface: "Vlan-interface1", Confirmed: 90 * time.Second},
		{IP: netip.MustParseAddr("10.78.0.7"), MAC: "02:23:3a:40:7e:18", Interface: "Vlan-interface1", Static: true},
		{IP: netip.MustParseAddr("10.78.0.99"), Interface: "Vlan-interface1", Invalid: true, Confirmed: time.Hour},
	}
	want := "  Type: S-Static   D-Dynamic   O-Openflow   R-Rule   M-Multiport  I-Invalid\n" +
		"IP address      MAC address    VLAN     Interface                Aging Type\n" +
		"10.78.0.1       021e-c1dc-fc01 1        Vlan1                    18    D\n" +
		"10.78.0.7       0223-3a40-7e18 1        Vlan1                    --    S\n" +
		"10.78.0.99      N/A            1        Vlan1                    0     I\n"
	if got := ARPTable(ns); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// The displays reach the device through the grammar in every view, for
// network-operator too; another Vlan-interface number is Wrong parameter.
func TestNetworkDisplaysThroughGrammar(t *testing.T) {
	s, d := newTestSession(operator)
	d.net.iface = testInterface()
	for line, want := range map[string]string{
		"display interface brief":                InterfaceBrief(d.net.iface),
		"dis int vlan1 brief":                    InterfaceBrief(d.net.iface),
		"display interface":                      InterfaceDetail(d.net.iface),
		"display interface Vlan-interface 1":     InterfaceDetail(d.net.iface),
		"display ip interface brief":             IPInterfaceBrief(d.net.iface),
		"display ip interface":                   IPInterfaceDetail(d.net.iface),
		"display ip routing-table":               RoutingTable(nil),
		"display arp":                            ARPTable(nil),
		"display interface brief | include Vlan": "Vlan1                UP   UP       10.78.0.2\n",
	} {
		if out, ok := run(t, s, line); !ok || out != want {
			t.Errorf("%q: ok=%v\n%s\nwant:\n%s", line, ok, out, want)
		}
	}
	if out, ok := run(t, s, "display interface Vlan-interface 2"); ok || out != caret(9+33, wrongParam) {
		t.Errorf("Vlan-interface 2: %v\n%s", ok, out)
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

package cli

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

func TestDHCPClientInformation(t *testing.T) {
	at := time.Date(2026, 5, 29, 10, 0, 0, 0, time.Local)
	s := device.DHCPStatus{Enabled: true, Interface: "eth1", State: "BOUND",
		Addr: netip.MustParsePrefix("40.1.1.20/24"), Lease: 259200 * time.Second,
		T1: 129600 * time.Second, T2: 226800 * time.Second, Server: netip.MustParseAddr("40.1.1.2"),
		Router: netip.MustParseAddr("40.1.1.2"), DNSServers: []netip.Addr{netip.MustParseAddr("44.1.1.11")},
		CloudDomain: "oasis.example.com", BoundAt: at, Now: at.Add(2*time.Second + time.Hour)}
	brief := DHCPClientInformation(s, false)
	want := "Vlan-interface1 DHCP client information:\n" +
		" Current state: BOUND\n" +
		" Allocated IP: 40.1.1.20 255.255.255.0\n" +
		" Allocated lease: 259200 seconds, T1: 129600 seconds, T2: 226800 seconds\n" +
		" DHCP server: 40.1.1.2\n"
	if brief != want {
		t.Fatalf("got\n%s\nwant\n%s", brief, want)
	}
	v := DHCPClientInformation(s, true)
	for _, w := range []string{
		" Lease from May 29 10:00:00 2026   to   Jun  1 10:00:00 2026\n",
		" T1 will timeout in 1 day 10 hours 59 minutes 58 seconds.\n",
		" Option 253 (cloud domain): oasis.example.com\n",
		" Option 253 rejected: 0\n",
	} {
		if !strings.Contains(v, w) {
			t.Errorf("verbose lacks %q:\n%s", w, v)
		}
	}
	if got := spell(59 * time.Second); got != "59 seconds" {
		t.Error(got)
	}
	if got := DHCPClientInformation(device.DHCPStatus{}, true); !strings.Contains(got, "DISABLED") {
		t.Error(got)
	}
}

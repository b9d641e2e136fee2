package cli

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// The network displays, in Comware 7's layouts:
//
//	display interface [ Vlan-interface [ NUMBER ] ] [ brief ]
//	display ip interface [ Vlan-interface [ NUMBER ] ] [ brief ]
//	display ip routing-table
//	display arp
//
// The data comes from the device (device.Network); only Vlan-interface1
// exists, so NUMBER other than 1 is Wrong parameter.

// vlanInterfaceChoice is `[ Vlan-interface [ NUMBER ] ] [ brief ]` after a
// display keyword, every form ending in h.
func vlanInterfaceChoice(leaf func(*node, handler) *node, h handler) []*node {
	brief := func() *node {
		return leaf(&node{keyword: "brief", name: "brief", help: "Display brief interface information"}, h)
	}
	number := leaf(val("vlan", vlanValue, "Vlan-interface interface number", brief()), h)
	vlan := leaf(&node{keyword: "Vlan-interface", help: "VLAN interface", splitNumber: true,
		next: []*node{number, brief()}}, h)
	return []*node{brief(), vlan}
}

func displayInterfaceCommand(leaf func(*node, handler) *node) *node {
	return leaf(kw("interface", "Interface status and configuration information",
		vlanInterfaceChoice(leaf, runDisplayInterface)...), runDisplayInterface)
}

func displayIPCommand(leaf func(*node, handler) *node) *node {
	return kw("ip", "IP module",
		leaf(kw("interface", "IP interface information", vlanInterfaceChoice(leaf, runDisplayIPInterface)...), runDisplayIPInterface),
		leaf(kw("routing-table", "Display routing table information"), runDisplayRoutingTable))
}

func displayARPCommand(leaf func(*node, handler) *node) *node {
	return leaf(kw("arp", "ARP module"), runDisplayARP)
}

// vlanInterface reads Vlan-interface1, refusing another number.
func (e *invocation) vlanInterface() (device.InterfaceStatus, error) {
	if e.has("vlan") && e.number("vlan") != 1 {
		return device.InterfaceStatus{}, e.wrongParameter("vlan")
	}
	return e.s.dev.Interface(e.ctx)
}

func runDisplayInterface(e *invocation) error {
	st, err := e.vlanInterface()
	if err != nil {
		return err
	}
	if e.has("brief") {
		e.out.WriteString(InterfaceBrief(st))
	} else {
		e.out.WriteString(InterfaceDetail(st))
	}
	return nil
}

func runDisplayIPInterface(e *invocation) error {
	st, err := e.vlanInterface()
	if err != nil {
		return err
	}
	if e.has("brief") {
		e.out.WriteString(IPInterfaceBrief(st))
	} else {
		e.out.WriteString(IPInterfaceDetail(st))
	}
	return nil
}

func runDisplayRoutingTable(e *invocation) error {
	routes, err := e.s.dev.Routes(e.ctx)
	if err != nil {
		return err
	}
	e.out.WriteString(RoutingTable(routes))
	return nil
}

func runDisplayARP(e *invocation) error {
	ns, err := e.s.dev.Neighbors(e.ctx)
	if err != nil {
		return err
	}
	e.out.WriteString(ARPTable(ns))
	return nil
}

// shortName is the interface's short name: Vlan-interface1 → Vlan1.
func shortName(name string) string { return strings.Replace(name, "Vlan-interface", "Vlan", 1) }

// comwareMAC writes aa:bb:cc:dd:ee:ff as aabb-ccdd-eeff (interfaces and
// ARP); anything else as it is.
func comwareMAC(mac string) string {
	if grouped, ok := groupMAC(mac); ok {
		return grouped
	}
	return mac
}

// lineProtocolUp: a VLAN interface's protocol is up when its link is and
// it has an address.
func lineProtocolUp(st device.InterfaceStatus) bool {
	return st.AdminUp && st.LinkUp && st.Addr.IsValid()
}

// InterfaceBrief is `display interface brief`.
func InterfaceBrief(st device.InterfaceStatus) string {
	link := "DOWN"
	switch {
	case !st.AdminUp && st.LinuxName != "":
		link = "ADM"
	case st.AdminUp && st.LinkUp:
		link = "UP"
	}
	proto, ip := "DOWN", "--"
	if lineProtocolUp(st) {
		proto = "UP"
	}
	if st.Addr.IsValid() {
		ip = st.Addr.Addr().String()
	}
	row := strings.TrimRight(fmt.Sprintf("%-21s%-5s%-9s%-16s%s", shortName(st.Name), link, proto, ip, ""), " ")
	return "Brief information on interfaces in route mode:\n" +
		"Link: ADM - administratively down; Stby - standby\n" +
		"Protocol: (s) - spoofing\n" +
		"Interface            Link Protocol Primary IP      Description\n" +
		row + "\n"
}

// currentState is `Current state:` of display interface.
func currentState(st device.InterfaceStatus) string {
	switch {
	case !st.AdminUp && st.LinuxName != "":
		return "Administratively DOWN"
	case st.AdminUp && st.LinkUp:
		return "UP"
	}
	return "DOWN"
}

func upDown(up bool) string {
	if up {
		return "UP"
	}
	return "DOWN"
}

// InterfaceDetail is `display interface Vlan-interface 1`.
func InterfaceDetail(st device.InterfaceStatus) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("%s", st.Name)
	p("Current state: %s", currentState(st))
	p("Line protocol state: %s", upDown(lineProtocolUp(st)))
	p("Description: %s", st.Description)
	p("Bandwidth: 1000000 kbps")
	if st.MTU > 0 { // unknown without a Linux interface
		p("Maximum transmission unit: %d", st.MTU)
	}
	switch st.AddrOrigin {
	case device.AddrDHCP:
		p("Internet address: %s (DHCP-allocated)", st.Addr)
	case device.AddrStatic:
		p("Internet address: %s (Primary)", st.Addr)
	default:
		p("Internet protocol processing: Disabled")
	}
	if st.MAC != "" {
		p("IP packet frame type: Ethernet II, hardware address: %s", comwareMAC(st.MAC))
		p("IPv6 packet frame type: Ethernet II, hardware address: %s", comwareMAC(st.MAC))
	}
	p("Last clearing of counters: Never")
	secs := rateSeconds(st.RateWindow)
	p("Last %d seconds input rate: %d bytes/sec, %d bits/sec, %d packets/sec", secs, st.InRate.BytesPerSec, st.InRate.BytesPerSec*8, st.InRate.PacketsPerSec)
	p("Last %d seconds output rate: %d bytes/sec, %d bits/sec, %d packets/sec", secs, st.OutRate.BytesPerSec, st.OutRate.BytesPerSec*8, st.OutRate.PacketsPerSec)
	c := st.Counters
	p("Input: %d packets, %d bytes, %d drops", c.InPackets, c.InBytes, c.InDrops)
	p("Output: %d packets, %d bytes, %d drops", c.OutPackets, c.OutBytes, c.OutDrops)
	return b.String()
}

// rateSeconds is the rate window in whole seconds: Comware's 300, or less
// when the daemon has not been sampling that long.
func rateSeconds(w time.Duration) int {
	if w <= 0 || w > 300*time.Second {
		return 300
	}
	return max(1, int(w/time.Second))
}

// IPInterfaceBrief is `display ip interface brief`.
func IPInterfaceBrief(st device.InterfaceStatus) string {
	phys := "down"
	switch {
	case !st.AdminUp && st.LinuxName != "":
		phys = "*down"
	case st.AdminUp && st.LinkUp:
		phys = "up"
	}
	proto, ip := "down", "--"
	if lineProtocolUp(st) {
		proto = "up"
	}
	if st.Addr.IsValid() {
		ip = st.Addr.Addr().String()
	}
	desc := st.Description
	if len(desc) > 12 {
		desc = desc[:9] + "..."
	}
	return "*down: administratively down\n(s): spoofing\n" +
		"Interface                     Physical Protocol IP Address      Description\n" +
		fmt.Sprintf("%-30s%-9s%-9s%-16s%s\n", shortName(st.Name), phys, proto, ip, desc)
}

// IPInterfaceDetail is `display ip interface`.
func IPInterfaceDetail(st device.InterfaceStatus) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("%s current state: %s", st.Name, currentState(st))
	p("Line protocol current state: %s", upDown(lineProtocolUp(st)))
	if !st.Addr.IsValid() {
		p("Internet protocol processing : disabled")
		return b.String()
	}
	origin := "Primary"
	if st.AddrOrigin == device.AddrDHCP {
		origin = "DHCP-Allocated"
	}
	p("Internet Address is %s %s", st.Addr, origin)
	p("Broadcast address: %s", config.BroadcastAddr(st.Addr))
	p("The Maximum Transmit Unit: %d bytes", st.MTU)
	c := st.Counters
	p("input packets : %d, bytes : %d, multicasts : %d", c.InPackets, c.InBytes, c.InMulticasts)
	p("output packets : %d, bytes : %d, multicasts : -", c.OutPackets, c.OutBytes)
	count := func(label string, n uint64) { p("%s%*d", label, 36-len(label), n) }
	count("TTL invalid packet number:", st.TTLInvalid)
	i := st.ICMP
	count("ICMP packet input number:", i.In)
	for _, f := range []struct {
		label string
		n     uint64
	}{
		{"Echo reply:", i.EchoReply}, {"Unreachable:", i.Unreachable}, {"Source quench:", i.SourceQuench},
		{"Routing redirect:", i.Redirect}, {"Echo request:", i.EchoRequest}, {"Router advert:", i.RouterAdvert},
		{"Router solicit:", i.RouterSolicit}, {"Time exceed:", i.TimeExceeded}, {"IP header bad:", i.ParamProblem},
		{"Timestamp request:", i.TimestampRequest}, {"Timestamp reply:", i.TimestampReply},
		{"Information request:", i.InfoRequest}, {"Information reply:", i.InfoReply},
		{"Netmask request:", i.MaskRequest}, {"Netmask reply:", i.MaskReply}, {"Unknown type:", i.Unknown},
	} {
		count("  "+f.label, f.n)
	}
	return b.String()
}

// RoutingTable is `display ip routing-table`: a blank line, the counts,
// a blank line, the header, then one line per route; a route's further
// next hops (same destination and protocol) continue on lines of their
// own without the destination.
func RoutingTable(routes []device.Route) string {
	dests := map[netip.Prefix]bool{}
	for _, r := range routes {
		dests[r.Dest] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nDestinations : %-8d Routes : %d\n\n", len(dests), len(routes))
	b.WriteString("Destination/Mask   Proto   Pre Cost        NextHop         Interface\n")
	for i, r := range routes {
		dest := r.Dest.String()
		if i > 0 && routes[i-1].Dest == r.Dest {
			dest = ""
		}
		// Each column keeps at least one space after it, as Comware's
		// O_INTRA does: a DHCP route's Pre (its kernel metric) is 1000.
		fmt.Fprintf(&b, "%-18s %-7s %-3s %-11s %-15s %s\n", dest, r.Proto, strconv.Itoa(r.Pre), strconv.Itoa(r.Cost), r.NextHop, r.Interface)
	}
	return b.String()
}

// arpAging is Comware's default ARP aging time; a dynamic entry shows what
// is left of it since the kernel last confirmed the neighbour.
const arpAging = 20 * time.Minute

// ARPTable is `display arp`.
func ARPTable(ns []device.Neighbor) string {
	var b strings.Builder
	b.WriteString("  Type: S-Static   D-Dynamic   O-Openflow   R-Rule   M-Multiport  I-Invalid\n")
	b.WriteString("IP address      MAC address    VLAN     Interface                Aging Type\n")
	for _, n := range ns {
		typ, aging := "D", strconv.Itoa(int(max(0, arpAging-n.Confirmed)/time.Minute))
		switch {
		case n.Static:
			typ, aging = "S", "--"
		case n.Invalid:
			typ = "I"
		}
		mac := comwareMAC(n.MAC)
		if mac == "" {
			mac = "N/A"
		}
		fmt.Fprintf(&b, "%-16s%-15s%-9s%-25s%-6s%s\n", n.IP, mac, "1", shortName(n.Interface), aging, typ)
	}
	return b.String()
}

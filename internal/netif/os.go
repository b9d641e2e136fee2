package netif

import (
	"net/netip"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// OS is the kernel as the manager sees it: one link, its IPv4 addresses,
// the main routing table, the neighbour table and the IP stack's counters.
// The daemon uses netlink (sys_linux.go); tests use a fake.
type OS interface {
	Link(name string) (Link, error)
	Addrs(link int) ([]Addr, error)
	AddAddr(link int, p netip.Prefix) error
	DelAddr(link int, p netip.Prefix) error
	// Routes is the IPv4 main table.
	Routes() ([]KernelRoute, error)
	// ReplaceRoute installs r, replacing the route with the same
	// destination and metric.
	ReplaceRoute(r KernelRoute) error
	DelRoute(r KernelRoute) error
	Neighbors(link int) ([]Neighbor, error)
	// SNMP is the IP stack's counters (/proc/net/snmp).
	SNMP() (SNMP, error)
	Close()
}

// Link is a network interface.
type Link struct {
	Index   int
	AdminUp bool // IFF_UP
	LinkUp  bool // IFF_LOWER_UP: carrier
	MTU     int
	MAC     string
	Stats   device.IfCounters
}

// Addr is an IPv4 address on a link.
type Addr struct {
	Prefix    netip.Prefix
	Permanent bool // no lifetime: configured, not leased
	Secondary bool
}

// KernelRoute is an IPv4 route of the main table. A route with more than
// one gateway is a multipath route.
type KernelRoute struct {
	Dest     netip.Prefix
	Gateways []netip.Addr
	Link     int // the output link (of every hop)
	Metric   int
	Protocol int  // RTPROT_*; ProtoStatic for the device's static routes
	LinkDown bool // the kernel marked the route dead (link down)
}

// Neighbor is an entry of the IPv4 neighbour table.
type Neighbor struct {
	IP        netip.Addr
	MAC       string
	Permanent bool
	Failed    bool // incomplete or failed resolution
	NoARP     bool // not resolved by ARP (broadcast, multicast)
	Confirmed time.Duration
}

// SNMP holds the counters of /proc/net/snmp, by section and name
// ("Icmp" → "InEchos" → n).
type SNMP map[string]map[string]uint64

// Route protocols (rtnetlink): ProtoStatic marks the routes the device
// installs from `ip route-static`, so that it can tell them from routes
// others added; ProtoDHCP is dhcpopt's default route.
const (
	ProtoKernel = 2
	ProtoDHCP   = 16
	ProtoStatic = 78 // ours: 'N'; not used by the kernel or the well-known daemons (iproute2 rt_protos)
)

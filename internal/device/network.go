package device

import (
	"net/netip"
	"time"
)

// The values of the Network role: Vlan-interface1's state, the routing
// table, the ARP table, and the probes of ping and tracert. cli renders
// them the way Comware prints them.

// InterfaceStatus is Vlan-interface1 as the kernel reports it
// (`display interface`, `display ip interface`).
type InterfaceStatus struct {
	Name        string        `json:"name"`        // "Vlan-interface1"
	LinuxName   string        `json:"linux_name"`  // the Linux interface; "" when none is bound
	AdminUp     bool          `json:"admin_up"`    // IFF_UP
	LinkUp      bool          `json:"link_up"`     // carrier (IFF_LOWER_UP)
	MTU         int           `json:"mtu"`         // bytes
	MAC         string        `json:"mac"`         // "aa:bb:cc:dd:ee:ff"
	Addr        netip.Prefix  `json:"addr"`        // primary IPv4 address; invalid when none
	AddrOrigin  string        `json:"addr_origin"` // AddrStatic, AddrDHCP or "" (none)
	Description string        `json:"description"` // "Vlan-interface1 Interface"
	Counters    IfCounters    `json:"counters"`    // since the kernel created the interface
	InRate      Rate          `json:"in_rate"`     // over the last RateWindow
	OutRate     Rate          `json:"out_rate"`    //
	RateWindow  time.Duration `json:"rate_window"` // 300 s, or less after a start
	ICMP        ICMPCounters  `json:"icmp"`        // the IP stack's, per namespace
	TTLInvalid  uint64        `json:"ttl_invalid"` // IP header errors (TTL expiry included)
}

// Where Vlan-interface1's address came from.
const (
	AddrStatic = "static" // ip address A.B.C.D MASK
	AddrDHCP   = "dhcp"   // ip address dhcp-alloc
)

// IfCounters are an interface's packet counters.
type IfCounters struct {
	InPackets    uint64 `json:"in_packets"`
	InBytes      uint64 `json:"in_bytes"`
	InMulticasts uint64 `json:"in_multicasts"`
	InDrops      uint64 `json:"in_drops"`
	InErrors     uint64 `json:"in_errors"`
	OutPackets   uint64 `json:"out_packets"`
	OutBytes     uint64 `json:"out_bytes"`
	OutDrops     uint64 `json:"out_drops"`
	OutErrors    uint64 `json:"out_errors"`
}

// Rate is a traffic rate over a window.
type Rate struct {
	BytesPerSec   uint64 `json:"bytes_per_sec"`
	PacketsPerSec uint64 `json:"packets_per_sec"`
}

// ICMPCounters are the ICMP messages received, by type (/proc/net/snmp).
type ICMPCounters struct {
	In               uint64 `json:"in"`
	EchoReply        uint64 `json:"echo_reply"`
	Unreachable      uint64 `json:"unreachable"`
	SourceQuench     uint64 `json:"source_quench"`
	Redirect         uint64 `json:"redirect"`
	EchoRequest      uint64 `json:"echo_request"`
	RouterAdvert     uint64 `json:"router_advert"`
	RouterSolicit    uint64 `json:"router_solicit"`
	TimeExceeded     uint64 `json:"time_exceeded"`
	ParamProblem     uint64 `json:"param_problem"`
	TimestampRequest uint64 `json:"timestamp_request"`
	TimestampReply   uint64 `json:"timestamp_reply"`
	InfoRequest      uint64 `json:"info_request"`
	InfoReply        uint64 `json:"info_reply"`
	MaskRequest      uint64 `json:"mask_request"`
	MaskReply        uint64 `json:"mask_reply"`
	Unknown          uint64 `json:"unknown"`
}

// Route is one line of `display ip routing-table`.
type Route struct {
	Dest      netip.Prefix `json:"dest"`
	Proto     string       `json:"proto"` // RouteDirect, RouteStatic, RouteDHCP
	Pre       int          `json:"pre"`   // preference; lower wins
	Cost      int          `json:"cost"`
	NextHop   netip.Addr   `json:"next_hop"`
	Interface string       `json:"interface"` // "Vlan1", "InLoop0", "NULL0"
}

// Route protocols as `display ip routing-table` names them.
const (
	RouteDirect = "Direct"
	RouteStatic = "Static"
	RouteDHCP   = "DHCP"
)

// Neighbor is one line of `display arp`: an entry of the kernel's IPv4
// neighbour table on Vlan-interface1.
type Neighbor struct {
	IP        netip.Addr    `json:"ip"`
	MAC       string        `json:"mac"` // "aa:bb:cc:dd:ee:ff"
	Interface string        `json:"interface"`
	Static    bool          `json:"static"`    // a permanent entry
	Invalid   bool          `json:"invalid"`   // resolution failed or incomplete
	Confirmed time.Duration `json:"confirmed"` // since the kernel last confirmed it
}

// PingRequest is `ping [ -a SOURCE ] [ -c COUNT ] [ -s SIZE ] [ -t TIMEOUT ] HOST`
// once HOST is an address.
type PingRequest struct {
	Dest     netip.Addr    `json:"dest"`
	Source   netip.Addr    `json:"source"`   // invalid = chosen by routing
	Count    int           `json:"count"`    // echo requests to send
	Size     int           `json:"size"`     // ICMP data bytes
	Timeout  time.Duration `json:"timeout"`  // per request
	Interval time.Duration `json:"interval"` // after a reply or a timeout, before the next request
}

// PingReply is the outcome of one echo request; the stream carries one per
// request sent, in order.
type PingReply struct {
	Seq     int           `json:"seq"`
	From    netip.Addr    `json:"from"`
	Bytes   int           `json:"bytes"` // ICMP data bytes in the reply
	TTL     int           `json:"ttl"`
	RTT     time.Duration `json:"rtt"`
	Timeout bool          `json:"timeout"`         // no reply within the timeout
	Error   string        `json:"error,omitempty"` // the request could not be sent
}

// TracertRequest is `tracert [ -q PACKETS ] [ -w TIMEOUT ] HOST` once HOST
// is an address.
type TracertRequest struct {
	Dest     netip.Addr    `json:"dest"`
	Probes   int           `json:"probes"`  // per hop
	Timeout  time.Duration `json:"timeout"` // per probe
	FirstTTL int           `json:"first_ttl"`
	MaxTTL   int           `json:"max_ttl"`
}

// TracertProbe is the outcome of one probe; the stream carries one per
// probe, hop by hop.
type TracertProbe struct {
	TTL     int           `json:"ttl"`
	Index   int           `json:"index"` // 0 … Probes-1 within the hop
	From    netip.Addr    `json:"from"`
	RTT     time.Duration `json:"rtt"`
	Timeout bool          `json:"timeout"`
	// Note marks an ICMP destination unreachable other than "port
	// unreachable" from the target, as traceroute does: !H !N !P !F !X.
	Note string `json:"note,omitempty"`
	// Last is set on the hop's last probe when the trace ends there (the
	// target answered, or a hop said the target is unreachable).
	Last bool `json:"last,omitempty"`
}

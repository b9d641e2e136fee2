package dhcpopt

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Status is a snapshot of the Vlan-interface1 DHCP client for
// `display dhcp client [verbose]`.
type Status struct {
	Enabled             bool          `json:"enabled"`   // ip address dhcp-alloc is configured
	Interface           string        `json:"interface"` // the Linux interface, "" when none
	State               string        `json:"state"`     // INIT SELECTING REQUESTING BOUND RENEWING REBINDING
	Addr                netip.Prefix  `json:"addr"`
	Lease               time.Duration `json:"lease"`
	T1                  time.Duration `json:"t1"`
	T2                  time.Duration `json:"t2"`
	Server              netip.Addr    `json:"server"`
	Router              netip.Addr    `json:"router"`
	DNSServers          []netip.Addr  `json:"dns_servers"`
	DomainName          string        `json:"domain_name"`  // option 15
	CloudDomain         string        `json:"cloud_domain"` // last valid option 253
	BoundAt             time.Time     `json:"bound_at"`
	Option253Rejected   uint64        `json:"option253_rejected"`
	Option253LastReject string        `json:"option253_last_reject"` // reason of the last rejection
	Now                 time.Time     `json:"now"`
}

// Display renders s as `display dhcp client [verbose]` shows it.
func (s Status) Display(verbose bool) string {
	var b strings.Builder
	b.WriteString("Vlan-interface1 DHCP client information:\n")
	if !s.Enabled {
		b.WriteString(" Current state: DISABLED\n")
		return b.String()
	}
	state := s.State
	if state == "" {
		state = "INIT"
	}
	fmt.Fprintf(&b, " Current state: %s\n", state)
	if s.Addr.IsValid() {
		fmt.Fprintf(&b, " Allocated IP: %s %s\n", s.Addr.Addr(), maskOf(s.Addr))
		fmt.Fprintf(&b, " Allocated lease: %d seconds, T1: %d seconds, T2: %d seconds\n",
			int(s.Lease.Seconds()), int(s.T1.Seconds()), int(s.T2.Seconds()))
		fmt.Fprintf(&b, " DHCP server: %s\n", s.Server)
	}
	if !verbose {
		return b.String()
	}
	if s.Router.IsValid() {
		fmt.Fprintf(&b, " Gateway: %s\n", s.Router)
	}
	for i, d := range s.DNSServers {
		fmt.Fprintf(&b, " DNS server %d: %s\n", i+1, d)
	}
	if s.DomainName != "" {
		fmt.Fprintf(&b, " Domain name: %s\n", s.DomainName)
	}
	cloud := s.CloudDomain
	if cloud == "" {
		cloud = "N/A"
	}
	fmt.Fprintf(&b, " Option 253 (cloud domain): %s\n", cloud)
	fmt.Fprintf(&b, " Option 253 rejected: %d\n", s.Option253Rejected)
	if s.Option253LastReject != "" {
		fmt.Fprintf(&b, " Option 253 last rejection: %s\n", s.Option253LastReject)
	}
	return b.String()
}

func maskOf(p netip.Prefix) string {
	if !p.Addr().Is4() {
		return fmt.Sprint(p.Bits())
	}
	m := ^uint32(0) << (32 - p.Bits())
	if p.Bits() == 0 {
		m = 0
	}
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&255, m>>8&255, m&255)
}

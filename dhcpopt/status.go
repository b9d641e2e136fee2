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
	if s.Addr.IsValid() && !s.BoundAt.IsZero() {
		const layout = "Jan _2 15:04:05 2006"
		fmt.Fprintf(&b, " Lease from %s   to   %s\n", s.BoundAt.Local().Format(layout),
			s.BoundAt.Add(s.Lease).Local().Format(layout))
		if !s.Now.IsZero() {
			if left := s.BoundAt.Add(s.T1).Sub(s.Now); left > 0 && s.State == "BOUND" {
				fmt.Fprintf(&b, " T1 will timeout in %s.\n", spell(left))
			}
		}
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

// spell writes d as "1 day 11 hours 58 minutes 52 seconds", leaving out
// leading zero units.
func spell(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	units := []struct {
		n    int64
		name string
	}{{secs / 86400, "day"}, {secs / 3600 % 24, "hour"}, {secs / 60 % 60, "minute"}, {secs % 60, "second"}}
	var parts []string
	for _, u := range units {
		if u.n == 0 && len(parts) == 0 && u.name != "second" {
			continue
		}
		name := u.name
		if u.n != 1 {
			name += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", u.n, name))
	}
	return strings.Join(parts, " ")
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

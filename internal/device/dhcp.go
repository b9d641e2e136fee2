package device

import (
	"net/netip"
	"time"
)

// DHCPStatus is a snapshot of the Vlan-interface1 DHCP client for
// `display dhcp client [verbose]`.
type DHCPStatus struct {
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

package cli

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// CloudManagementState renders s as `display cloud-management state` shows
// it, times in loc.
func CloudManagementState(s device.CloudStatus, loc *time.Location) string {
	var b strings.Builder
	line := func(label, value string) {
		if value == "" {
			value = "N/A"
		}
		if len(label) < 25 {
			fmt.Fprintf(&b, "%-25s: %s\n", label, value)
		} else {
			fmt.Fprintf(&b, "%s : %s\n", label, value)
		}
	}
	port := ""
	if s.ServerPort > 0 {
		port = fmt.Sprint(s.ServerPort)
	}
	duration := ""
	if s.ConnState == "Established" && !s.ConnectedAt.IsZero() {
		duration = FormatDuration(s.Now.Sub(s.ConnectedAt))
	}
	line("Cloud connection state", s.ConnState)
	line("Device state", s.DeviceState)
	line("Cloud server address", s.ServerAddress)
	line("Cloud server domain name", s.ServerDomain)
	line("Cloud connection mode", s.Mode)
	line("Cloud server port", port)
	line("Connected at", ctime(s.ConnectedAt, loc))
	line("Duration", duration)
	line("Process state", s.ProcessState)
	line("Failure reason", s.FailureReason)
	line("Last down reason", s.LastDownReason)
	line("Last down at", ctime(s.LastDownAt, loc))
	line("Last report failure reason", s.LastReportFailureReason)
	line("Last report failure at", ctime(s.LastReportFailureAt, loc))
	line("Dropped packets after reaching buffer limit", fmt.Sprint(s.DroppedAfterLimit))
	line("Total dropped packets", fmt.Sprint(s.TotalDropped))
	line("Last report incomplete reason", s.LastReportIncompleteReason)
	line("Last report incomplete at", ctime(s.LastReportIncompleteAt, loc))
	line("Buffer full count", fmt.Sprint(s.BufferFullCount))
	if s.InsecureTLS {
		line("Certificate verification", "Disabled by operator")
	}
	return b.String()
}

// FormatDuration renders d as `00d 00h 02m 01s`.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%02dd %02dh %02dm %02ds", s/86400, s%86400/3600, s%3600/60, s%60)
}

func ctime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format("Mon Jan _2 15:04:05 2006")
}

// DHCPClientInformation renders s as `display dhcp client [verbose]` shows it.
func DHCPClientInformation(s device.DHCPStatus, verbose bool) string {
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

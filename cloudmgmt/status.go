package cloudmgmt

import (
	"fmt"
	"strings"
	"time"
)

// Status is a snapshot of the cloud connection, copied out of the state
// machine: `display cloud-management state` reads this, never live internals.
// Empty strings and zero times display as N/A.
type Status struct {
	ConnState      string    `json:"conn_state"`     // Idle Resolving Connecting Authenticating Registering Upgrading Established Waiting
	DeviceState    string    `json:"device_state"`   // Idle Request_success Request_failure Bound_elsewhere Register_failure
	ServerAddress  string    `json:"server_address"` // resolved address in use
	ServerDomain   string    `json:"server_domain"`
	Mode           string    `json:"mode"` // Https (Http only in lab mode)
	ServerPort     int       `json:"server_port"`
	ConnectedAt    time.Time `json:"connected_at"`
	ProcessState   string    `json:"process_state"` // Idle, Message sent, Message received
	FailureReason  string    `json:"failure_reason"`
	LastDownReason string    `json:"last_down_reason"`
	LastDownAt     time.Time `json:"last_down_at"`

	LastReportFailureReason    string    `json:"last_report_failure_reason"`
	LastReportFailureAt        time.Time `json:"last_report_failure_at"`
	DroppedAfterLimit          uint64    `json:"dropped_after_limit"`
	TotalDropped               uint64    `json:"total_dropped"`
	LastReportIncompleteReason string    `json:"last_report_incomplete_reason"`
	LastReportIncompleteAt     time.Time `json:"last_report_incomplete_at"`
	BufferFullCount            uint64    `json:"buffer_full_count"`

	// InsecureTLS is the operator's explicit choice to skip certificate
	// verification; it is shown so that nobody runs that way unknowingly.
	InsecureTLS bool `json:"insecure_tls"`
	// Now is when the snapshot was taken; Duration is computed from it.
	Now time.Time `json:"now"`
}

// Display renders s as `display cloud-management state` shows it, times in loc.
func (s Status) Display(loc *time.Location) string {
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

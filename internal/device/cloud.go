package device

import "time"

// CloudStatus is a snapshot of the cloud connection, copied out of the state
// machine: `display cloud-management state` reads this, never live internals.
// Empty strings and zero times display as N/A.
type CloudStatus struct {
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

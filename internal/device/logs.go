package device

import "time"

// LogEntry is one log event (logbuf keeps them; `display logbuffer` and
// `terminal monitor` show them).
type LogEntry struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Module   string    `json:"module"`   // e.g. CLOUD
	Severity int       `json:"severity"` // 0-7
	Mnemonic string    `json:"mnemonic"` // e.g. CLOUD_ESTABLISHED
	Text     string    `json:"text"`
}

// LogSnapshot is a copy of the log buffer.
type LogSnapshot struct {
	Size        int        `json:"size"`
	Overwritten uint64     `json:"overwritten"`
	Dropped     uint64     `json:"dropped"`
	Entries     []LogEntry `json:"entries"`
}

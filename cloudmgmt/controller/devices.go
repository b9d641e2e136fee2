package controller

// The inventory and what the controller keeps of each device: the device
// listing and the stored reports of the admin API.

import (
	"encoding/json"
	"time"
)

type reportLog struct {
	LastSeq    uint64   `json:"last_seq"`
	Received   uint64   `json:"received"`
	Duplicates uint64   `json:"duplicates"`
	Reports    []Report `json:"reports,omitempty"`
}

// Report is one stored report.
type Report struct {
	Seq  uint64          `json:"seq"`
	Time string          `json:"time"`
	Data json.RawMessage `json:"data"`
}

// AddSerial adds serial to the inventory; a non-empty code marks it bound
// elsewhere with that unbinding code.
func (s *Server) AddSerial(serial, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serials[serial] = true
	if code != "" {
		s.bound[serial] = code
	} else {
		delete(s.bound, serial)
	}
}

// DeviceInfo is one row of the device listing.
type DeviceInfo struct {
	Serial      string                `json:"serial"`
	Sysname     string                `json:"sysname,omitempty"`
	Connected   bool                  `json:"connected"`
	Remote      string                `json:"remote,omitempty"`
	ConnectedAt time.Time             `json:"connected_at,omitzero"`
	Sessions    int                   `json:"sessions"`
	Auths       int                   `json:"auths"` // authentications answered 200
	Keepalives  uint64                `json:"keepalives"`
	LastKASeq   uint64                `json:"last_keepalive_seq"`
	Subconns    []string              `json:"subconns"`
	Reports     map[string]ReportInfo `json:"reports"`
	LastReports map[string]Report     `json:"last_reports,omitempty"`
	Flood       *FloodProgress        `json:"flood,omitempty"` // an ExecFlood running
}

// ReportInfo is the per-service report summary.
type ReportInfo struct {
	LastSeq    uint64 `json:"last_seq"`
	Received   uint64 `json:"received"`
	Duplicates uint64 `json:"duplicates"`
}

// Devices lists every device that ever authenticated, sorted by serial.
func (s *Server) Devices() []DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DeviceInfo
	for sn, d := range s.devices {
		di := DeviceInfo{Serial: sn, Sysname: d.sysname, Connected: d.main != nil, Remote: d.remote,
			Sessions: d.sessions, Auths: d.auths, Keepalives: d.keepalives, LastKASeq: d.lastKASeq,
			Subconns: []string{}, Reports: map[string]ReportInfo{}, LastReports: map[string]Report{}}
		if d.main != nil {
			di.ConnectedAt = d.connectedAt
		}
		if f := d.flood; f != nil {
			di.Flood = &FloodProgress{Count: f.count, Answered: f.answered}
		}
		for svc := range d.subs {
			di.Subconns = append(di.Subconns, svc)
		}
		sortStrings(di.Subconns)
		for svc, rl := range d.reports {
			di.Reports[svc] = ReportInfo{LastSeq: rl.LastSeq, Received: rl.Received, Duplicates: rl.Duplicates}
			if n := len(rl.Reports); n > 0 {
				di.LastReports[svc] = rl.Reports[n-1]
			}
		}
		out = append(out, di)
	}
	sortDevices(out)
	return out
}

// Reports returns the stored reports of serial's service.
func (s *Server) Reports(serial, service string) (ReportInfo, []Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[serial]
	if d == nil || d.reports[service] == nil {
		return ReportInfo{}, nil
	}
	rl := d.reports[service]
	return ReportInfo{LastSeq: rl.LastSeq, Received: rl.Received, Duplicates: rl.Duplicates},
		append([]Report(nil), rl.Reports...)
}

package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

func sortStrings(s []string) { slices.Sort(s) }

func sortDevices(d []DeviceInfo) {
	slices.SortFunc(d, func(a, b DeviceInfo) int { return strings.Compare(a.Serial, b.Serial) })
}

// AdminHandler serves the admin API (HTTP+JSON, meant for loopback):
//
//	GET  /devices                         → []DeviceInfo
//	GET  /reports?serial=SN&service=SVC   → {"summary":ReportInfo,"reports":[]Report}
//	POST /exec    {"serial","lines","timeout_seconds"} → ExecResult
//	POST /flood   {"serial","lines","count","timeout_seconds"} → FloodResult
//	GET  /faults                          → Faults
//	POST /faults  Faults (fields given replace, others kept) → Faults
//	POST /inject  {"serial","kind"}       (serial "" = all devices)
//	POST /close   {"serial"}              close connections (serial "" = all)
//	POST /serials {"serial","code"}       add a serial (code: bound elsewhere)
//	GET  /admission                       → AdmissionInfo (admission control counters)
//	GET  /auths                           → AuthInfo (authentications, per second)
//	GET  /healthz
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.adminHealth)
	mux.HandleFunc("GET /devices", s.adminDevices)
	mux.HandleFunc("GET /reports", s.adminReports)
	mux.HandleFunc("POST /exec", s.adminExec)
	mux.HandleFunc("POST /flood", s.adminFlood)
	mux.HandleFunc("GET /admission", s.adminAdmission)
	mux.HandleFunc("GET /auths", s.adminAuths)
	mux.HandleFunc("GET /faults", s.adminFaults)
	mux.HandleFunc("POST /faults", s.adminSetFaults)
	mux.HandleFunc("POST /inject", s.adminInject)
	mux.HandleFunc("POST /close", s.adminClose)
	mux.HandleFunc("POST /serials", s.adminAddSerial)
	return mux
}

func (s *Server) adminHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]string{"status": "ok"})
}

func (s *Server) adminDevices(w http.ResponseWriter, r *http.Request) {
	d := s.Devices()
	if d == nil {
		d = []DeviceInfo{}
	}
	writeJSON(w, 200, d)
}

func (s *Server) adminReports(w http.ResponseWriter, r *http.Request) {
	sum, reps := s.Reports(r.URL.Query().Get("serial"), r.URL.Query().Get("service"))
	if reps == nil {
		reps = []Report{}
	}
	writeJSON(w, 200, map[string]any{"summary": sum, "reports": reps})
}

func (s *Server) adminExec(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Serial  string   `json:"serial"`
		Lines   []string `json:"lines"`
		Timeout int      `json:"timeout_seconds"`
	}
	if !adminBody(w, r, &req) {
		return
	}
	if req.Timeout <= 0 {
		req.Timeout = 60
	}
	ctx, cancel := requestTimeout(r, req.Timeout)
	defer cancel()
	res, err := s.Exec(ctx, req.Serial, req.Lines)
	answer(w, res, err)
}

func (s *Server) adminFlood(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Serial  string   `json:"serial"`
		Lines   []string `json:"lines"`
		Count   int      `json:"count"`
		Timeout int      `json:"timeout_seconds"`
	}
	if !adminBody(w, r, &req) {
		return
	}
	if req.Count < 1 || req.Count > MaxFloodCount {
		writeJSON(w, 400, map[string]string{"error": fmt.Sprintf("count %d out of range 1-%d", req.Count, MaxFloodCount)})
		return
	}
	if req.Timeout <= 0 {
		req.Timeout = 600
	}
	ctx, cancel := requestTimeout(r, req.Timeout)
	defer cancel()
	res, err := s.ExecFlood(ctx, req.Serial, req.Lines, req.Count)
	answer(w, res, err)
}

func (s *Server) adminAdmission(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, s.Admission())
}

func (s *Server) adminAuths(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, s.Auths())
}

func (s *Server) adminFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, s.Faults())
}

func (s *Server) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	if !adminBody(w, r, &f) {
		return
	}
	if f.OnConnect != "" && !contains(InjectKinds, f.OnConnect) {
		writeJSON(w, 400, map[string]string{"error": "unknown on_connect kind " + f.OnConnect})
		return
	}
	s.SetFaults(f)
	writeJSON(w, 200, f)
}

func (s *Server) adminInject(w http.ResponseWriter, r *http.Request) {
	var req struct{ Serial, Kind string }
	if !adminBody(w, r, &req) {
		return
	}
	answer(w, map[string]string{"status": "ok"}, s.Inject(req.Serial, req.Kind))
}

func (s *Server) adminClose(w http.ResponseWriter, r *http.Request) {
	var req struct{ Serial string }
	if !adminBody(w, r, &req) {
		return
	}
	answer(w, map[string]string{"status": "ok"}, s.CloseDevice(req.Serial))
}

func (s *Server) adminAddSerial(w http.ResponseWriter, r *http.Request) {
	var req struct{ Serial, Code string }
	if !adminBody(w, r, &req) || req.Serial == "" {
		if req.Serial == "" {
			writeJSON(w, 400, map[string]string{"error": "serial required"})
		}
		return
	}
	s.AddSerial(req.Serial, req.Code)
	writeJSON(w, 200, map[string]string{"status": "ok"})
}

// answer writes v, or 404 with err (the device or serial it names is not
// there).
func answer(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeJSON(w, 404, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, 200, v)
}

// requestTimeout bounds an admin request that waits for a device. It is on
// the real clock, not Config.Now: timeout_seconds is how long the admin
// caller (the cloudsim CLI, the bench, a test), another process, waits for
// its HTTP answer, in its own real seconds.
func requestTimeout(r *http.Request, seconds int) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), time.Duration(seconds)*time.Second)
}

func adminBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		if len(strings.TrimSpace(string(b))) == 0 {
			return true
		}
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return false
	}
	return true
}

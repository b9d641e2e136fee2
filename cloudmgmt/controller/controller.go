// Package controller is cloudsim's engine: a reference cloud controller for
// protocol v1 (docs/protocol.md). cmd/cloudsim wraps it in a CLI; the
// device's demo mode and tests embed it directly.
package controller

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/shortstack"
)

// Config is the controller's inventory and behaviour.
type Config struct {
	Serials  []string          // serials added to this controller
	Bound    map[string]string // serials bound elsewhere → their unbinding code
	TokenTTL time.Duration     // default 300 s
	Plain    bool              // lab mode: http:// and ws:// (no TLS)
	Services []string          // served sub-connection services; default telemetry, log
	Log      *zap.Logger
	// KeepReports is how many reports per device and service are kept (default 10000).
	KeepReports int
	// AdmitWindow turns on admission control (admission.go): new sessions
	// are admitted at max(50, fleet/AdmitWindow) per second, the others
	// answered 503 busy with a Retry-After slot. 0 = off.
	AdmitWindow time.Duration
	// Now is the controller's clock: token lifetimes, admission control,
	// connection times and flood timing (tests inject one); nil = time.Now.
	// Socket deadlines stay on the real clock (netDeadline).
	Now func() time.Time
}

// Faults are injected misbehaviours, switched through the admin endpoint.
type Faults struct {
	DropKeepaliveAcks bool   `json:"drop_keepalive_acks"`
	DropPongs         bool   `json:"drop_pongs"`
	DropReportAcks    bool   `json:"drop_report_acks"`
	RefuseUpgrade     bool   `json:"refuse_upgrade"`  // main upgrade answered 503
	RejectAuth        int    `json:"reject_auth"`     // answer every auth with this status (0 = off)
	RejectRegister    int    `json:"reject_register"` // same for register
	SilentAccept      bool   `json:"silent_accept"`   // accept TCP, never answer
	MainURLScheme     string `json:"main_url_scheme"` // e.g. "ws": hand out a wrong scheme
	NoSubconn         bool   `json:"no_subconn"`      // answer subconn-request with no URLs
	// OnConnect injects this kind right after each upgrade, before the
	// connection's first frame is read: no keepalive-ack precedes it, so a
	// device sees the connection break before it is stable.
	OnConnect string `json:"on_connect"`
}

// Inject kinds for Inject and Faults.OnConnect.
var InjectKinds = []string{"malformed", "unknown-type", "oversize", "oversize-8mib", "binary", "reregister",
	"close", "missing-field", "close-subs"}

// Server is one controller.
type Server struct {
	cfg Config
	zl  *zap.Logger

	mu      sync.Mutex
	serials map[string]bool
	bound   map[string]string
	tokens  map[string]*token
	devices map[string]*device
	faults  Faults
	held    []net.Conn // silent-accept connections
	closed  bool
	adm     admission
	auths   authCount
	now     func() time.Time

	upgrader websocket.Upgrader
	wg       sync.WaitGroup
	execSeq  uint64
}

type token struct {
	serial  string
	session string
	expires time.Time
}

// device is everything the controller knows about one serial.
type device struct {
	serial      string
	main        *peer
	subs        map[string]*peer
	connectedAt time.Time
	remote      string
	keepalives  uint64
	lastKASeq   uint64
	keepalive   int
	ping        int
	sysname     string
	reports     map[string]*reportLog
	waiters     map[string]chan ExecResult
	flood       *flood // the exec flood running on the main connection (flood.go)
	sessions    int
	auths       int    // authentications answered 200
	mainSession string // session of the live main connection
}

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

// ExecResult is the device's answer to an exec.
type ExecResult struct {
	Output string `json:"output"`
	OK     bool   `json:"ok"`
}

// peer is one WebSocket with its write lock.
type peer struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	wait time.Duration // write deadline
}

// Write deadlines. A device reads its main connection only while its exec
// queue has room (docs/protocol.md §3), so a frame to it may wait for one
// exec's time limit (60 s) before TCP takes it: shorter, and a controller
// that pipelines execs would break its own connection (gorilla's write
// errors are final). Sub-connections are always read.
const (
	mainWriteWait = 60*time.Second + subWriteWait
	subWriteWait  = 10 * time.Second
)

// netDeadline is a socket deadline d from now. It is on the real clock, not
// Config.Now: net.Conn deadlines are absolute instants that the Go runtime's
// network poller compares with the real time, so an injected clock (a fake
// one is hours or years away, and stands still) would make every deadline
// already past or never due.
func netDeadline(d time.Duration) time.Time { return time.Now().Add(d) }

func (p *peer) write(mt int, b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.ws.SetWriteDeadline(netDeadline(p.wait))
	return p.ws.WriteMessage(mt, b)
}

// New returns a controller.
func New(cfg Config) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 300 * time.Second
	}
	if cfg.Services == nil {
		cfg.Services = []string{wire.ServiceTelemetry, wire.ServiceLog}
	}
	if cfg.KeepReports <= 0 {
		cfg.KeepReports = 10000
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	s := &Server{cfg: cfg, zl: cfg.Log, serials: map[string]bool{}, bound: map[string]string{},
		tokens: map[string]*token{}, devices: map[string]*device{}, now: cfg.Now,
		adm: admission{window: max(cfg.AdmitWindow, 0), reserved: map[string]time.Time{}}}
	if s.now == nil {
		s.now = time.Now
	}
	for _, sn := range cfg.Serials {
		s.serials[sn] = true
	}
	for sn, code := range cfg.Bound {
		s.serials[sn] = true
		s.bound[sn] = code
	}
	s.upgrader = websocket.Upgrader{
		// I/O buffer only (larger frames are read through it); every idle
		// connection keeps it
		ReadBufferSize:  256,
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    []string{wire.Subprotocol},
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	return s
}

// Handler serves protocol v1.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+wire.PathAuth, s.auth)
	mux.HandleFunc("POST "+wire.PathRegister, s.register)
	mux.HandleFunc("POST "+wire.PathUnbind, s.unbind)
	mux.HandleFunc("GET "+wire.PathMain+"{session}", s.mainWS)
	mux.HandleFunc("GET "+wire.PathSub+"{service}/{session}", s.subWS)
	return mux
}

// Serve serves protocol v1 on l (TLS with tlsConf unless nil) until ctx
// ends; then it closes every connection and returns once all goroutines
// have ended.
func (s *Server) Serve(ctx context.Context, l net.Listener, tlsConf *tls.Config) error {
	hl := &holdListener{Listener: l, s: s}
	var ln net.Listener = hl
	if tlsConf != nil {
		ln = tls.NewListener(hl, tlsConf)
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: zap.NewStdLog(s.zl.WithOptions(zap.IncreaseLevel(zap.ErrorLevel)))}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		s.Shutdown()
		return err
	}
	hs.Close()
	<-errc
	s.Shutdown()
	return nil
}

// Shutdown closes every device connection and held socket and waits for
// the connection goroutines.
func (s *Server) Shutdown() {
	s.mu.Lock()
	s.closed = true
	for _, c := range s.held {
		c.Close()
	}
	s.held = nil
	for _, d := range s.devices {
		d.closeAll()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (d *device) closeAll() {
	if d.main != nil {
		d.main.ws.Close()
	}
	for _, p := range d.subs {
		p.ws.Close()
	}
}

// holdListener implements the silent-accept fault: while it is on, accepted
// connections are held open and never answered.
type holdListener struct {
	net.Listener
	s *Server
}

func (h *holdListener) Accept() (net.Conn, error) {
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			return nil, err
		}
		h.s.mu.Lock()
		if h.s.faults.SilentAccept && !h.s.closed {
			h.s.held = append(h.s.held, c)
			h.s.mu.Unlock()
			continue
		}
		h.s.mu.Unlock()
		return c, nil
	}
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// readBody reads a JSON body of at most 64 KiB.
func readBody(w http.ResponseWriter, r *http.Request, v any, required ...string) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, wire.MaxBody+1))
	if err != nil {
		writeJSON(w, 400, map[string]string{"result": "failure", "reason": "bad-request", "message": err.Error()})
		return false
	}
	if len(b) > wire.MaxBody {
		writeJSON(w, 413, map[string]string{"result": "failure", "reason": "too-large", "message": "body over 64 KiB"})
		return false
	}
	if err := wire.DecodeBody(b, v, required...); err != nil {
		writeJSON(w, 400, map[string]string{"result": "failure", "reason": "bad-request", "message": err.Error()})
		return false
	}
	return true
}

func (s *Server) auth(w http.ResponseWriter, r *http.Request) {
	var req wire.AuthRequest
	if !readBody(w, r, &req, "serial") {
		return
	}
	s.mu.Lock()
	f := s.faults
	known := s.serials[req.Serial]
	_, bound := s.bound[req.Serial]
	s.mu.Unlock()
	switch {
	case f.RejectAuth != 0:
		writeJSON(w, f.RejectAuth, wire.AuthResponse{Result: wire.ResultFailure, Reason: "injected",
			Message: "fault injection"})
	case !known:
		writeJSON(w, 403, wire.AuthResponse{Result: wire.ResultFailure, Reason: wire.ReasonSerialUnknown,
			Message: "serial " + req.Serial + " is not on this controller"})
	case bound:
		writeJSON(w, 409, wire.AuthResponse{Result: wire.ResultFailure, Reason: wire.ReasonBoundElsewhere,
			Message: "serial " + req.Serial + " belongs to another account"})
	default:
		if res := s.admit(req.Serial); !res.ok {
			s.answerBusy(w, res)
			return
		}
		t := &token{serial: req.Serial, session: newID(), expires: s.now().Add(s.cfg.TokenTTL)}
		tok := newID()
		s.mu.Lock()
		s.expireTokensLocked()
		s.tokens[tok] = t
		d := s.deviceLocked(req.Serial)
		d.sysname = req.Sysname
		s.countAuthLocked(d, s.now())
		s.mu.Unlock()
		s.zl.Info("auth", zap.String("serial", req.Serial))
		writeJSON(w, 200, wire.AuthResponse{Result: wire.ResultSuccess, Token: tok,
			ExpiresIn: int(s.cfg.TokenTTL / time.Second)})
	}
}

func (s *Server) expireTokensLocked() {
	now := s.now()
	for k, t := range s.tokens {
		if now.After(t.expires) && !s.liveLocked(t) {
			delete(s.tokens, k)
		}
	}
}

// liveLocked reports whether t's session has its main connection up: its
// token then stays good for sub-connections (which reconnect on their own
// long after the token's lifetime).
func (s *Server) liveLocked(t *token) bool {
	d := s.devices[t.serial]
	return d != nil && d.main != nil && d.mainSession == t.session
}

func (s *Server) deviceLocked(serial string) *device {
	d := s.devices[serial]
	if d == nil {
		d = &device{serial: serial, subs: map[string]*peer{}, reports: map[string]*reportLog{},
			waiters: map[string]chan ExecResult{}}
		s.devices[serial] = d
	}
	return d
}

// bearer returns the token of r if it is valid.
func (s *Server) bearer(r *http.Request) *token { return s.bearerFor(r, false) }

// bearerFor is bearer; with sub, an expired token of a live session is good.
func (s *Server) bearerFor(r *http.Request, sub bool) *token {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tok]
	if t == nil || s.now().After(t.expires) && !(sub && s.liveLocked(t)) {
		return nil
	}
	return t
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	t := s.bearer(r)
	if t == nil {
		writeJSON(w, 401, wire.RegisterResponse{Result: wire.ResultFailure, Reason: "token-invalid",
			Message: "token unknown or expired"})
		return
	}
	var req wire.RegisterRequest
	if !readBody(w, r, &req, "serial", "keepalive", "ping") {
		return
	}
	s.mu.Lock()
	f := s.faults
	if f.RejectRegister != 0 {
		s.mu.Unlock()
		writeJSON(w, f.RejectRegister, wire.RegisterResponse{Result: wire.ResultFailure, Reason: "injected"})
		return
	}
	if req.Serial != t.serial {
		s.mu.Unlock()
		writeJSON(w, 401, wire.RegisterResponse{Result: wire.ResultFailure, Reason: "token-invalid",
			Message: "token belongs to another serial"})
		return
	}
	d := s.deviceLocked(t.serial)
	d.keepalive, d.ping = req.Keepalive, req.Ping
	s.mu.Unlock()
	scheme := "wss"
	if s.cfg.Plain {
		scheme = "ws"
	}
	if f.MainURLScheme != "" {
		scheme = f.MainURLScheme
	}
	writeJSON(w, 200, wire.RegisterResponse{Result: wire.ResultSuccess,
		MainURL: scheme + "://" + r.Host + wire.PathMain + t.session})
}

func (s *Server) unbind(w http.ResponseWriter, r *http.Request) {
	var req wire.UnbindRequest
	if !readBody(w, r, &req, "serial", "code") {
		return
	}
	s.mu.Lock()
	code, bound := s.bound[req.Serial]
	ok := bound && code == req.Code
	if ok {
		delete(s.bound, req.Serial)
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, 403, wire.UnbindResponse{Result: wire.ResultFailure, Reason: wire.ReasonCodeInvalid})
		return
	}
	s.zl.Info("unbound", zap.String("serial", req.Serial))
	writeJSON(w, 200, wire.UnbindResponse{Result: wire.ResultSuccess})
}

// upgrade checks the token and session and upgrades; nil after an error answer.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, sub bool) (*token, *websocket.Conn) {
	t := s.bearerFor(r, sub)
	if t == nil || t.session != r.PathValue("session") {
		http.Error(w, "token unknown or expired", http.StatusUnauthorized)
		return nil, nil
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, nil
	}
	ws.SetReadLimit(wire.MaxBody)
	return t, ws
}

func (s *Server) deadline(d *device) time.Duration {
	n := max(d.keepalive, d.ping, 10)
	return time.Duration(3*n+10) * time.Second
}

func (s *Server) mainWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.faults.RefuseUpgrade
	s.mu.Unlock()
	if refuse {
		http.Error(w, "upgrade refused (fault injection)", http.StatusServiceUnavailable)
		return
	}
	t, ws := s.upgrade(w, r, false)
	if ws == nil {
		return
	}
	p := &peer{ws: ws, wait: mainWriteWait}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	d := s.deviceLocked(t.serial)
	d.mainSession = t.session
	if d.main != nil {
		d.main.ws.Close() // a new main connection replaces the old one
	}
	for _, sp := range d.subs {
		sp.ws.Close()
	}
	d.main = p
	d.connectedAt = s.now()
	d.remote = r.RemoteAddr
	d.sessions++
	onConnect := s.faults.OnConnect
	dl := s.deadline(d)
	s.wg.Add(1)
	s.mu.Unlock()
	s.zl.Info("main connection", zap.String("serial", t.serial), zap.String("remote", r.RemoteAddr))
	if onConnect != "" {
		// before the reader starts: nothing is answered ahead of it
		s.inject(p, onConnect)
	}
	go s.mainLoop(d, p, t, r.Host, dl)
}

func (s *Server) mainLoop(d *device, p *peer, t *token, host string, dl time.Duration) {
	defer s.wg.Done()
	ws := p.ws
	answerPings(p, dl, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.faults.DropPongs
	})
	defer func() {
		ws.Close()
		s.mu.Lock()
		if d.main == p {
			d.main = nil
			for _, w := range d.waiters {
				select {
				case w <- ExecResult{Output: "connection closed", OK: false}:
				default:
				}
			}
		}
		if d.flood != nil && d.flood.p == p {
			d.flood.end("connection closed")
		}
		s.mu.Unlock()
		s.zl.Info("main connection closed", zap.String("serial", d.serial))
	}()
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(netDeadline(dl))
		keep := false
		// decoding and answering need a deeper stack than the waiting
		// reader: keep that off the connection's goroutine
		shortstack.Do(func() { keep = s.mainFrame(d, p, t, host, mt, data) })
		if !keep {
			return
		}
	}
}

// answerPings arms the read deadline dl and renews it on every Ping, which
// is answered with a Pong unless drop says otherwise (fault injection). The
// Pong may wait behind a data frame as long as any write (p.wait).
func answerPings(p *peer, dl time.Duration, drop func() bool) {
	ws := p.ws
	ws.SetReadDeadline(netDeadline(dl))
	ws.SetPingHandler(func(data string) error {
		ws.SetReadDeadline(netDeadline(dl))
		if drop() {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), netDeadline(p.wait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
}

// mainFrame handles one frame of a main connection; false ends it.
func (s *Server) mainFrame(d *device, p *peer, t *token, host string, mt int, data []byte) bool {
	if mt != websocket.TextMessage {
		closeWith(p, websocket.CloseUnsupportedData, "binary frame")
		return false
	}
	f, err := wire.DecodeFrame(data, wire.ToController)
	if err != nil {
		closeWith(p, websocket.CloseProtocolError, err.Error())
		return false
	}
	switch f.Type {
	case wire.TypeKeepalive:
		s.mu.Lock()
		d.keepalives++
		d.lastKASeq = f.Seq
		drop := s.faults.DropKeepaliveAcks
		s.mu.Unlock()
		if !drop {
			p.write(websocket.TextMessage, wire.KeepaliveAck(f.Seq))
		}
	case wire.TypeSubconnRequest:
		urls := map[string]string{}
		s.mu.Lock()
		none := s.faults.NoSubconn
		s.mu.Unlock()
		scheme := "wss"
		if s.cfg.Plain {
			scheme = "ws"
		}
		for _, svc := range f.Services {
			if !none && contains(s.cfg.Services, svc) {
				urls[svc] = scheme + "://" + host + wire.PathSub + svc + "/" + t.session
			}
		}
		p.write(websocket.TextMessage, wire.SubconnURLs(urls))
	case wire.TypeExecResult:
		var id string
		json.Unmarshal(f.ID, &id)
		s.mu.Lock()
		if d.flood != nil && d.flood.answer(id, f.Output, f.OK, s.now()) {
			s.mu.Unlock()
			break
		}
		wch := d.waiters[id]
		delete(d.waiters, id)
		s.mu.Unlock()
		if wch != nil {
			wch <- ExecResult{Output: f.Output, OK: f.OK}
		}
	default:
		closeWith(p, websocket.CloseProtocolError, "unexpected "+f.Type)
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func closeWith(p *peer, code int, text string) {
	if len(text) > 100 {
		text = text[:100]
	}
	p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		netDeadline(time.Second))
}

func (s *Server) subWS(w http.ResponseWriter, r *http.Request) {
	svc := r.PathValue("service")
	if !contains(s.cfg.Services, svc) {
		http.Error(w, "unknown service", http.StatusNotFound)
		return
	}
	t, ws := s.upgrade(w, r, true)
	if ws == nil {
		return
	}
	p := &peer{ws: ws, wait: subWriteWait}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	d := s.deviceLocked(t.serial)
	if old := d.subs[svc]; old != nil {
		old.ws.Close()
	}
	d.subs[svc] = p
	dl := s.deadline(d)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.subLoop(d, p, svc, dl)
}

func (s *Server) subLoop(d *device, p *peer, svc string, dl time.Duration) {
	defer s.wg.Done()
	ws := p.ws
	answerPings(p, dl, func() bool { return false })
	defer func() {
		ws.Close()
		s.mu.Lock()
		if d.subs[svc] == p {
			delete(d.subs, svc)
		}
		s.mu.Unlock()
	}()
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(netDeadline(dl))
		keep := false
		shortstack.Do(func() { keep = s.subFrame(d, p, svc, mt, data) })
		if !keep {
			return
		}
	}
}

// subFrame handles one frame of a sub-connection (a report); false ends it.
func (s *Server) subFrame(d *device, p *peer, svc string, mt int, data []byte) bool {
	if mt != websocket.TextMessage {
		closeWith(p, websocket.CloseUnsupportedData, "binary frame")
		return false
	}
	f, err := wire.DecodeFrame(data, wire.ToController)
	if err != nil || f.Type != wire.TypeReport || f.Service != svc {
		closeWith(p, websocket.CloseProtocolError, "expected a report for "+svc)
		return false
	}
	s.mu.Lock()
	rl := d.reports[svc]
	if rl == nil {
		rl = &reportLog{}
		d.reports[svc] = rl
	}
	if f.Seq > rl.LastSeq {
		rl.LastSeq = f.Seq
		rl.Received++
		rl.Reports = append(rl.Reports, Report{Seq: f.Seq, Time: f.Time, Data: f.Data})
		if over := len(rl.Reports) - s.cfg.KeepReports; over > 0 {
			rl.Reports = append([]Report(nil), rl.Reports[over:]...)
		}
	} else {
		rl.Duplicates++
	}
	ack := rl.LastSeq
	drop := s.faults.DropReportAcks
	s.mu.Unlock()
	if !drop {
		p.write(websocket.TextMessage, wire.ReportAck(ack))
	}
	return true
}

// inject sends one misbehaviour to a connection.
func (s *Server) inject(p *peer, kind string) error {
	switch kind {
	case "malformed":
		return p.write(websocket.TextMessage, []byte(`{"type":"keepalive-ack","seq":`))
	case "unknown-type":
		return p.write(websocket.TextMessage, []byte(`{"type":"no-such-type"}`))
	case "missing-field":
		return p.write(websocket.TextMessage, []byte(`{"type":"keepalive-ack"}`))
	case "oversize":
		big := `{"type":"keepalive-ack","seq":1,"pad":"` + strings.Repeat("x", wire.MaxBody) + `"}`
		return p.write(websocket.TextMessage, []byte(big))
	case "oversize-8mib":
		return p.write(websocket.TextMessage, frame8MiB())
	case "binary":
		return p.write(websocket.BinaryMessage, []byte{1, 2, 3})
	case "reregister":
		return p.write(websocket.TextMessage, wire.Reregister())
	case "close":
		closeWith(p, websocket.CloseGoingAway, "closed by operator")
		return p.ws.Close()
	}
	return fmt.Errorf("unknown inject kind %q (one of %s)", kind, strings.Join(InjectKinds, ", "))
}

// frame8MiB is an 8 MiB text frame, made once: a controller that sends it
// on every connection must not allocate 8 MiB each time.
var frame8MiB = sync.OnceValue(func() []byte {
	const size = 8 << 20
	head := `{"type":"keepalive-ack","seq":1,"pad":"`
	b := []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
	return b
})

// Inject sends kind to the main connection of serial ("" = every device).
func (s *Server) Inject(serial, kind string) error {
	if !contains(InjectKinds, kind) {
		return fmt.Errorf("unknown inject kind %q (one of %s)", kind, strings.Join(InjectKinds, ", "))
	}
	var peers []*peer
	s.mu.Lock()
	for sn, d := range s.devices {
		if (serial == "" || sn == serial) && d.main != nil {
			if kind == "close-subs" {
				for _, p := range d.subs {
					p.ws.Close()
				}
				peers = append(peers, nil)
				continue
			}
			peers = append(peers, d.main)
		}
	}
	s.mu.Unlock()
	if len(peers) == 0 {
		return errors.New("no such connected device")
	}
	if kind == "close-subs" {
		return nil
	}
	for _, p := range peers {
		s.inject(p, kind)
	}
	return nil
}

// CloseDevice closes serial's connections ("" = every device).
func (s *Server) CloseDevice(serial string) error { return s.Inject(serial, "close") }

// SetFaults replaces the fault set. Turning SilentAccept off closes the
// held connections.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	if !f.SilentAccept {
		for _, c := range s.held {
			c.Close()
		}
		s.held = nil
	}
	s.mu.Unlock()
}

// Faults returns the current fault set.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
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

// Exec runs lines on serial's device and waits for the result.
func (s *Server) Exec(ctx context.Context, serial string, lines []string) (ExecResult, error) {
	s.mu.Lock()
	d := s.devices[serial]
	if d == nil || d.main == nil {
		s.mu.Unlock()
		return ExecResult{}, fmt.Errorf("device %s is not connected", serial)
	}
	s.execSeq++
	id := fmt.Sprintf("exec-%d", s.execSeq)
	ch := make(chan ExecResult, 1)
	d.waiters[id] = ch
	p := d.main
	s.mu.Unlock()
	idJSON, _ := json.Marshal(id)
	if err := p.write(websocket.TextMessage, wire.Exec(idJSON, lines)); err != nil {
		s.mu.Lock()
		delete(d.waiters, id)
		s.mu.Unlock()
		return ExecResult{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		s.mu.Lock()
		delete(d.waiters, id)
		s.mu.Unlock()
		return ExecResult{}, ctx.Err()
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

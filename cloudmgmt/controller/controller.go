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
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
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

func (s *Server) deviceLocked(serial string) *device {
	d := s.devices[serial]
	if d == nil {
		d = &device{serial: serial, subs: map[string]*peer{}, reports: map[string]*reportLog{},
			waiters: map[string]chan ExecResult{}}
		s.devices[serial] = d
	}
	return d
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

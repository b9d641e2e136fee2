// Package localapi is the daemon's API for its own front ends (shell
// children, `netdevd exec`, `netdevd shell`): HTTP+JSON on a Unix socket
// with mode 0600, like tailscaled's LocalAPI. Every call carries who is
// asking; the daemon, not the front end, decides what that caller may do.
package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/store"
)

// TokenHeader carries a shell child's session token. Without one, the
// caller is the console (root on the box).
const TokenHeader = "Netdevd-Session"

// Backend is what the daemon provides to the API.
type Backend interface {
	// Identify maps a session token ("" for none) to an identity.
	Identify(token string) (device.Identity, error)
	// Device is the device as seen by id; it checks id's role.
	Device(id device.Identity) device.Device
	// Running returns the running configuration and its version.
	Running() (config.Config, uint64)
	// Swap stores next if the running configuration is still at base.
	Swap(id device.Identity, base uint64, next config.Config) (uint64, error)
	// Exec runs lines as one session of id, as `netdevd exec` does.
	Exec(ctx context.Context, id device.Identity, lines []string) (string, bool)
}

type ctxKey struct{}

// Listen makes the API's Unix socket at path. The file appears already
// listening and with mode 0600: a client that finds it can connect at
// once, and no other user ever could. A socket left by a crashed daemon
// is replaced.
func Listen(path string) (net.Listener, error) {
	tmp := path + ".new"
	os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	// The name changes below; Serve removes the final one.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, err
	}
	return ln, nil
}

// Serve serves the API on ln, made by Listen at path, until ctx ends;
// then it closes ln and removes path.
func Serve(ctx context.Context, ln net.Listener, path string, b Backend) error {
	srv := &http.Server{
		Handler:           Handler(b),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests end with the server: a log stream or a console line
		// held open returns when the daemon stops.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, peerUID(c))
		},
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		// Answers already made are delivered before the connections close:
		// the caller of `reboot` gets its reply (the daemon stops once the
		// request has ended, before the reply is on the wire).
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		srv.Shutdown(sctx)
		srv.Close()
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped // the shutdown under way
		err = nil
	} else {
		srv.Close() // the listener failed; the goroutine ends with ctx
	}
	os.Remove(path)
	return err
}

// shutdownGrace bounds how long a stopping server waits for replies in
// flight.
const shutdownGrace = 5 * time.Second

// peerUID is the uid of the process at the other end, -1 if unknown.
func peerUID(c net.Conn) int {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1
	}
	uid := -1
	raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			uid = int(cred.Uid)
		}
	})
	return uid
}

// Handler returns the API's HTTP handler.
func Handler(b Backend) http.Handler {
	h := &handler{b: b}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/whoami", h.whoami)
	mux.HandleFunc("GET /v1/running", h.running)
	mux.HandleFunc("POST /v1/running", h.swap)
	mux.HandleFunc("POST /v1/save", h.save)
	mux.HandleFunc("GET /v1/file-exists", h.fileExists)
	mux.HandleFunc("GET /v1/saved", h.saved)
	mux.HandleFunc("GET /v1/version", h.version)
	mux.HandleFunc("GET /v1/cloud/status", h.cloudStatus)
	mux.HandleFunc("POST /v1/cloud/reset", h.cloudReset)
	mux.HandleFunc("POST /v1/cloud/unbind", h.cloudUnbind)
	mux.HandleFunc("GET /v1/dhcp", h.dhcp)
	mux.HandleFunc("GET /v1/dns/hosts", h.dnsHosts)
	mux.HandleFunc("GET /v1/users", h.users)
	mux.HandleFunc("GET /v1/logbuffer", h.logbuffer)
	h.registerLogRoutes(mux) // logstream.go
	mux.HandleFunc("POST /v1/exec", h.exec)
	registerBackup(mux, h)
	registerACL(mux, h)     // acl.go
	registerSystem(mux, h)  // system.go
	registerNetwork(mux, h) // network.go
	return mux
}

type handler struct{ b Backend }

// caller identifies the request, refusing other users' processes: the
// socket mode already keeps them out; this is the second lock.
func (h *handler) caller(w http.ResponseWriter, r *http.Request) (device.Identity, bool) {
	if uid, ok := r.Context().Value(ctxKey{}).(int); ok && uid != 0 && uid != os.Getuid() {
		httpError(w, http.StatusForbidden, "peer uid not allowed")
		return device.Identity{}, false
	}
	id, err := h.b.Identify(r.Header.Get(TokenHeader))
	if err != nil {
		httpError(w, http.StatusUnauthorized, err.Error())
		return device.Identity{}, false
	}
	return id, true
}

// answer runs call against the caller's view of the device and answers
// with its result as JSON.
func answer[T any](h *handler, w http.ResponseWriter, r *http.Request, call func(device.Device) (T, error)) {
	id, ok := h.caller(w, r)
	if !ok {
		return
	}
	v, err := call(h.b.Device(id))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, v)
}

func (h *handler) whoami(w http.ResponseWriter, r *http.Request) {
	if id, ok := h.caller(w, r); ok {
		writeJSON(w, id)
	}
}

// runningBody is the configuration with its version, for compare-and-swap.
type runningBody struct {
	Version uint64        `json:"version"`
	Config  config.Config `json:"config"`
}

func (h *handler) running(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); ok {
		cfg, v := h.b.Running()
		writeJSON(w, runningBody{Version: v, Config: cfg})
	}
}

func (h *handler) swap(w http.ResponseWriter, r *http.Request) {
	id, ok := h.caller(w, r)
	var body runningBody
	if !ok || !readJSON(w, r, &body) {
		return
	}
	v, err := h.b.Swap(id, body.Version, body.Config)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, runningBody{Version: v})
}

type fileBody struct {
	File string `json:"file"`
}

func (h *handler) save(w http.ResponseWriter, r *http.Request) {
	var body fileBody
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (struct{}, error) { return struct{}{}, d.Save(r.Context(), body.File) })
}

func (h *handler) fileExists(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (bool, error) { return d.FileExists(r.Context(), r.URL.Query().Get("file")) })
}

func (h *handler) saved(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (string, error) { return d.SavedConfiguration(r.Context()) })
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.VersionInfo, error) { return d.Version(r.Context()) })
}

func (h *handler) cloudStatus(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (any, error) { return d.CloudStatus(r.Context()) })
}

func (h *handler) cloudReset(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (struct{}, error) { return struct{}{}, d.ResetCloudTunnel(r.Context()) })
}

type unbindBody struct {
	Code string `json:"code"`
}

func (h *handler) cloudUnbind(w http.ResponseWriter, r *http.Request) {
	var body unbindBody
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (string, error) { return d.Unbind(r.Context(), body.Code) })
}

func (h *handler) dhcp(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (any, error) { return d.DHCPStatus(r.Context()) })
}

func (h *handler) dnsHosts(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) ([]device.DNSHost, error) { return d.DNSHosts(r.Context()) })
}

func (h *handler) users(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) ([]device.VTYSession, error) { return d.Users(r.Context()) })
}

func (h *handler) logbuffer(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (any, error) { return d.LogBuffer(r.Context()) })
}

type execBody struct {
	Lines  []string `json:"lines,omitempty"`
	Output string   `json:"output"`
	OK     bool     `json:"ok"`
}

func (h *handler) exec(w http.ResponseWriter, r *http.Request) {
	id, ok := h.caller(w, r)
	var body execBody
	if !ok || !readJSON(w, r, &body) {
		return
	}
	out, good := h.b.Exec(r.Context(), id, body.Lines)
	writeJSON(w, execBody{Output: out, OK: good})
}

// maxBody bounds what a request may send; a configuration is a few KiB.
const maxBody = 4 << 20

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("bad request body: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, device.ErrPermission):
		httpError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrConflict):
		httpError(w, http.StatusConflict, err.Error())
	default:
		httpError(w, http.StatusUnprocessableEntity, err.Error())
	}
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(errorBody{Error: msg})
}

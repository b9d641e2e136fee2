package controller

// Authentication, registration and unbinding (docs/protocol.md §1, §2 and
// §5): the HTTP steps around a device's WebSocket connections.

import (
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

type token struct {
	serial  string
	session string
	expires time.Time
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
	scheme := s.wsScheme()
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

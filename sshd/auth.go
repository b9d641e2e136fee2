package sshd

import (
	"fmt"
	"strings"
	"time"

	"github.com/gliderlabs/ssh"
	"go.uber.org/zap"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/password"
)

// Reasons for a failed login, as logged (never the password).
const (
	reasonWrongPassword = "wrong password"
	reasonUnknownUser   = "unknown user"
	reasonNoService     = "SSH service not authorized for the user"
	reasonNoPassword    = "no password configured"
	reasonBlocked       = "source blocked after repeated failures"
)

// sshUser returns the local user name may log in as over SSH.
func sshUser(cfg *config.Config, name string) (*config.LocalUser, string) {
	u, ok := cfg.User(name)
	switch {
	case !ok:
		return nil, reasonUnknownUser
	case !u.ServiceSSH:
		return nil, reasonNoService
	}
	return u, ""
}

// admitted is the tracked connection behind ctx, or nil when there is
// none or its source is blocked (recorded as the attempt's reason).
func (s *Server) admitted(ctx ssh.Context) *trackedConn {
	tc := s.trackedOf(ctx)
	if tc != nil && s.def.blocked(tc.src) {
		tc.setReason(reasonBlocked)
		return nil
	}
	return tc
}

func (s *Server) passwordHandler(ctx ssh.Context, user, pw string) bool {
	tc := s.admitted(ctx)
	if tc == nil {
		return false
	}
	setReason := tc.setReason
	cfg := s.o.Config()
	u, reason := sshUser(&cfg, user)
	hash := s.dummyHash
	if u != nil {
		if u.PasswordHash == "" {
			u, reason = nil, reasonNoPassword
		} else {
			hash = u.PasswordHash
		}
	}
	// scrypt costs ~16 MiB and tens of milliseconds: at most two at a time.
	select {
	case s.verifySem <- struct{}{}:
	case <-s.closing:
		return false
	case <-ctx.Done():
		return false
	}
	ok := password.Verify(hash, pw)
	<-s.verifySem
	if u == nil {
		setReason(reason)
		return false
	}
	if !ok {
		setReason(reasonWrongPassword)
		return false
	}
	return true
}

func (s *Server) publicKeyHandler(ctx ssh.Context, user string, key ssh.PublicKey) bool {
	tc := s.trackedOf(ctx)
	if tc == nil || s.def.blocked(tc.src) {
		return false
	}
	cfg := s.o.Config()
	u, _ := sshUser(&cfg, user)
	if u == nil {
		return false
	}
	for _, line := range u.PublicKeys {
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
		if err != nil {
			continue
		}
		if ssh.KeysEqual(pk, key) {
			return true
		}
	}
	return false
}

// authResult sees every authentication attempt after the library has
// decided (for public keys, after the signature was checked).
func (s *Server) authResult(tc *trackedConn, meta gossh.ConnMetadata, method string, err error) {
	user := meta.User()
	countAttempt(tc, method, err)
	if s.partialSuccess(tc, meta, method, err) { // twofactor.go
		return
	}
	if err == nil {
		s.def.succeeded(tc)
		// The login deadline no longer applies.
		tc.Conn.SetDeadline(time.Time{})
		tc.mu.Lock()
		tc.user = user
		tc.mu.Unlock()
		s.log.Log("SHELL", logbuf.Notification, "SHELL_LOGIN", fmt.Sprintf("%s logged in from %s.", user, tc.src))
		return
	}
	switch method {
	case "password", "keyboard-interactive":
		tc.mu.Lock()
		reason := tc.reason
		tc.reason = ""
		tc.loggedFail = true
		tc.mu.Unlock()
		if reason == "" && method == "password" {
			reason = reasonWrongPassword
		} else if reason == "" {
			reason = reasonNoFirstFactor // keyboard-interactive is offered only after a password or key
		}
		if reason != reasonBlocked {
			s.log.Log("SSHS", logbuf.Notification, "SSHS_AUTH_FAIL",
				fmt.Sprintf("SSH user %s failed to log in from %s: %s.", user, tc.src, reason))
		}
		s.def.failed(tc.src)
	case "publickey":
		// Clients offer several keys in turn: a refused key is not a failed
		// login. A connection that ends without logging in after refused
		// keys is logged once when it closes.
		tc.mu.Lock()
		tc.keyFailedUser = user
		tc.mu.Unlock()
		s.zl.Debug("ssh public key refused", zap.String("user", user), zap.String("source", tc.src))
	}
}

// countAttempt counts an authentication attempt of the connection: each
// password or keyboard-interactive answer, and an accepted key. The "none"
// probe and keys a client offers in turn and the server refuses are not
// attempts (`display ssh server session`: Retries).
func countAttempt(tc *trackedConn, method string, err error) {
	if method == "none" || method == "publickey" && err != nil {
		return
	}
	tc.mu.Lock()
	tc.attempts++
	tc.mu.Unlock()
}

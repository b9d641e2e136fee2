package sshd

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gliderlabs/ssh"
	"go.uber.org/zap"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/totp"
)

// Two-factor login (README "Two-factor authentication"): for a local user
// with a TOTP secret, a right password or key is only a partial success;
// the client must then answer one keyboard-interactive prompt with a TOTP
// code or an unused backup code. Neither the code nor the secret is logged.

// codePrompt is the one keyboard-interactive prompt (echo off).
const codePrompt = "Verification code: "

// Reasons for a failed second step, as logged (never the code).
const (
	reasonWrongCode     = "wrong verification code"
	reasonNoCode        = "no verification code"
	reasonNoFirstFactor = "keyboard-interactive without a password or key"
)

var errDenied = errors.New("permission denied")

// twoFactor remembers, per user and secret, the time step of the last TOTP
// code accepted, so that a code is never accepted twice (RFC 6238 §5.2).
// In memory only: a restart forgets it (a code seen just before a restart
// stays usable for the rest of its 90 s window).
type twoFactor struct {
	mu   sync.Mutex
	last map[string]int64 // user + "\x00" + sealed secret → step
}

// authCallbacks sets the password and public key callbacks on conf. They are
// gliderlabs' wrappers made by hand, because those cannot answer partial
// success. gliderlabs, having no handlers of its own, sets NoClientAuth:
// the "none" method is refused here.
func (s *Server) authCallbacks(ctx ssh.Context, conf *gossh.ServerConfig) {
	conf.NoClientAuthCallback = func(gossh.ConnMetadata) (*gossh.Permissions, error) { return nil, errDenied }
	conf.PasswordCallback = func(meta gossh.ConnMetadata, pw []byte) (*gossh.Permissions, error) {
		if !s.passwordHandler(ctx, meta.User(), string(pw)) {
			return nil, errDenied
		}
		return s.firstFactorDone(ctx, meta.User())
	}
	conf.PublicKeyCallback = func(meta gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
		if !s.publicKeyHandler(ctx, meta.User(), key) {
			return nil, errDenied
		}
		ctx.SetValue(ssh.ContextKeyPublicKey, key)
		return s.firstFactorDone(ctx, meta.User())
	}
}

// firstFactorDone: login for a user without a TOTP secret; otherwise a
// partial success that asks for the verification code.
func (s *Server) firstFactorDone(ctx ssh.Context, user string) (*gossh.Permissions, error) {
	cfg := s.o.Config()
	if u, ok := cfg.User(user); !ok || u.TOTPSecret == "" {
		return ctx.Permissions().Permissions, nil
	}
	return nil, &gossh.PartialSuccessError{Next: gossh.ServerAuthCallbacks{
		KeyboardInteractiveCallback: func(meta gossh.ConnMetadata, challenge gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
			if s.secondFactor(ctx, user, challenge) {
				return ctx.Permissions().Permissions, nil
			}
			return nil, errDenied
		},
	}}
}

// secondFactor asks for the code and checks it.
func (s *Server) secondFactor(ctx ssh.Context, user string, challenge gossh.KeyboardInteractiveChallenge) bool {
	tc := s.admitted(ctx)
	if tc == nil {
		return false
	}
	setReason := tc.setReason
	answers, err := challenge("", "", []string{codePrompt}, []bool{false})
	if err != nil || len(answers) != 1 || answers[0] == "" {
		setReason(reasonNoCode)
		return false
	}
	code := totp.NormalizeCode(answers[0])
	cfg := s.o.Config()
	u, reason := sshUser(&cfg, user)
	switch {
	case u == nil:
		setReason(reason)
		return false
	case u.TOTPSecret == "":
		return true // two-factor was turned off meanwhile
	case len(code) == totp.Digits:
		if s.checkTOTP(user, u.TOTPSecret, code) {
			return true
		}
	case len(code) == totp.BackupCodeLen && s.o.ConsumeBackupCode != nil:
		if s.o.ConsumeBackupCode(user, code) {
			s.log.Log("SSHS", logbuf.Notification, "SSHS_BACKUP_CODE_USED",
				fmt.Sprintf("SSH user %s used a one-time backup code from %s.", user, tc.src))
			return true
		}
	}
	setReason(reasonWrongCode)
	return false
}

// checkTOTP verifies code at the server's clock and refuses a step already
// used; check and record are one step under the lock, so two connections
// cannot both use one code.
func (s *Server) checkTOTP(user, sealed, code string) bool {
	secret, err := totp.Open(sealed)
	if err != nil {
		s.zl.Warn("ssh two-factor: unreadable TOTP secret", zap.String("user", user))
		return false
	}
	now := s.clk.Now()
	key := user + "\x00" + sealed
	s.tf.mu.Lock()
	defer s.tf.mu.Unlock()
	if s.tf.last == nil {
		s.tf.last = map[string]int64{}
	}
	// Forget steps too old to matter, so the map stays small.
	for k, step := range s.tf.last {
		if step < totp.Counter(now)-totp.Skew-1 {
			delete(s.tf.last, k)
		}
	}
	step, ok := totp.Verify(secret, code, now, s.tf.last[key])
	if ok {
		s.tf.last[key] = step
	}
	return ok
}

// partialSuccess handles a right first factor of a two-factor user: neither
// a login nor a failure (authResult logs neither).
func (s *Server) partialSuccess(tc *trackedConn, meta gossh.ConnMetadata, method string, err error) bool {
	var p *gossh.PartialSuccessError
	if !errors.As(err, &p) {
		return false
	}
	s.zl.Debug("ssh first factor accepted, verification code required",
		zap.String("user", meta.User()), zap.String("method", method), zap.String("source", tc.src))
	return true
}

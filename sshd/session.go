package sshd

import (
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/gliderlabs/ssh"
	"go.uber.org/zap"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/device"
)

// Messages printed to the client.
const (
	msgTooManyUsers = "%% The number of VTY users has reached the upper limit (%d). The connection is closed.\r\n"
	msgIdleTimeout  = "\r\n%% The connection was idle for %s and is closed.\r\n"
	msgNoShell      = "%% Failed to start the command line interface.\r\n"
	msgUserGone     = "%% The user no longer exists or may not use SSH.\r\n"
)

// closeDelay is how long a connection whose session the server ended (idle
// timeout, no free VTY line) stays open for the client to close it first.
const closeDelay = 2 * time.Second

// handleSession serves one session channel after a shell or exec request.
func (s *Server) handleSession(sess ssh.Session) {
	ptyReq, winCh, isPty := sess.Pty() // once, first: see README (gliderlabs race)
	tc := s.trackedOf(sess.Context())
	src := sourceOf(sess.RemoteAddr())
	if tc != nil {
		src = tc.src
	}
	cfg := s.o.Config()
	u, _ := sshUser(&cfg, sess.User())
	if u == nil {
		io.WriteString(sess, strings.ReplaceAll(msgUserGone, "%%", "%"))
		sess.Exit(1)
		return
	}
	v := s.takeVTY(u.Name, src, connInfoOf(sess, tc))
	if v == nil {
		fmt.Fprintf(sess, msgTooManyUsers, s.maxSessions)
		s.zl.Info("ssh session refused: all VTY lines in use", zap.String("user", u.Name), zap.String("source", src))
		sess.Exit(1)
		if tc != nil {
			// The client normally leaves when its session closes; one that
			// stays is closed. Not at once: a close with unread input
			// resets the connection and the message could be lost.
			s.afterRelay(closeDelay, func() { tc.Close() })
		}
		return
	}
	defer s.freeVTY(v)
	id := device.Identity{User: u.Name, Role: u.EffectiveRole(), Line: v.line(), Source: src}

	if raw := strings.TrimSpace(sess.RawCommand()); raw != "" {
		s.runExec(sess, v, id, raw)
		return
	}
	if s.o.Shell == nil {
		io.WriteString(sess, strings.ReplaceAll(msgNoShell, "%%", "%"))
		sess.Exit(1)
		return
	}
	sh := &shell{s: s, sess: sess, v: v, id: id, tc: tc, isPty: isPty, ptyReq: ptyReq, winCh: winCh}
	sess.Exit(sh.run())
}

// splitLines splits an exec command line into CLI lines at ';'.
func splitLines(raw string) []string {
	var lines []string
	for _, l := range strings.Split(raw, ";") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// runExec runs an exec request's lines and sends its exit status. The
// command's context ends only after that: what it started when it ends
// (`reboot` stops the daemon, closing every connection) cannot overtake
// the status.
func (s *Server) runExec(sess ssh.Session, v *vty, id device.Identity, raw string) {
	if s.o.Exec == nil {
		io.WriteString(sess, strings.ReplaceAll(msgNoShell, "%%", "%"))
		sess.Exit(1)
		return
	}
	v.pid.Store(int64(os.Getpid()))
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	code := 1
	if s.o.Exec(ctx, id, splitLines(raw), sess) {
		code = 0
	}
	sess.Exit(code)
}

// rawChannel returns the session's SSH channel without gliderlabs' "\n" to
// "\r\n" rewriting of PTY sessions: the relay forwards what the terminal
// line discipline produced, byte for byte, and the cursor model must see
// exactly what the client's terminal sees. Falls back to the session.
func rawChannel(sess ssh.Session) io.Writer {
	rv := reflect.ValueOf(sess)
	if rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Struct {
		if f := rv.Elem().FieldByName("Channel"); f.IsValid() && f.CanInterface() {
			if ch, ok := f.Interface().(gossh.Channel); ok && ch != nil {
				return ch
			}
		}
	}
	return sess
}

// Package sshd is the device's SSH server: host key, login against the
// local users of the running configuration, per-source defence, interactive
// sessions (one shell child per session on its own PTY, relayed by the
// daemon) and `ssh host "command; command"` exec. README.md has the design.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	"go.uber.org/zap"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// DefaultMaxSessions is the number of VTY lines served at once.
const DefaultMaxSessions = 16

// ServerVersion is the SSH identification string's software part: what a
// Comware device announces.
const ServerVersion = "Comware-7.1.064"

// Options configures a Server.
type Options struct {
	Listen      string // e.g. ":22" / "127.0.0.1:0"
	HostKeyPath string // ed25519, created 0600 at first boot, reused; "" = ephemeral key
	// Config returns the current running configuration (users, ssh settings, vty).
	Config func() config.Config
	// Shell returns the command for an interactive shell child for this
	// identity; mode is "readline" or "line". cleanup (may be nil) runs when
	// the session has ended and the child has been reaped. The server sets
	// the child's stdin/stdout/stderr, SysProcAttr (new session, controlling
	// terminal) and TERM (from the client's pty-req).
	Shell func(id device.Identity, mode string) (cmd *exec.Cmd, cleanup func(), err error)
	// Exec runs `ssh host "LINE; LINE"` lines in-process as one session and
	// writes the output.
	Exec func(ctx context.Context, id device.Identity, lines []string, out io.Writer) (ok bool)
	Log  *logbuf.Buffer
	Zap  *zap.Logger
	// Clock times the server's policies: VTY idle timeouts, penalties,
	// one-time codes.
	Clock clock.Clock
	// RelayClock paces the terminal relay: the probe, type-ahead holds,
	// output drains, the close of a refused or idle connection. Apart from
	// Clock so that a test can freeze the policies while the relay talks
	// to a real terminal at real speed; default the wall clock.
	RelayClock clock.Clock
	// MaxSessions is the number of concurrent sessions (VTY lines); default 16.
	MaxSessions int
	// ConsumeBackupCode removes one of user's unused two-factor backup codes
	// from the running configuration and reports whether code was one
	// (twofactor.go). nil = backup codes are refused.
	ConsumeBackupCode func(user, code string) bool

	// KillGrace is how long a shell child has between SIGHUP and SIGKILL
	// when its session is ended by the server; default 2s.
	KillGrace time.Duration
	// ProbeTimeout is how long the terminal probe waits for the client's
	// cursor report; default 500ms.
	ProbeTimeout time.Duration
}

// Modes passed to Options.Shell.
const (
	ModeReadline = "readline"
	ModeLine     = "line"
)

// Server is the SSH server.
type Server struct {
	o           Options
	log         *logbuf.Buffer
	zl          *zap.Logger
	clk         clock.Clock
	relayClk    clock.Clock
	maxSessions int
	signer      gossh.Signer
	fp          string
	ln          net.Listener
	gs          *ssh.Server
	dummyHash   string
	verifySem   chan struct{}

	def  defence
	tf   twoFactor // twofactor.go
	keys *hostKeys // algorithms.go

	mu       sync.Mutex
	vtys     []*vty // index = VTY number; nil = free
	served   bool
	closing  chan struct{}
	sessWG   sync.WaitGroup
	connWG   sync.WaitGroup
	shutOnce sync.Once

	refusedBlocked atomic.Int64 // connections refused because their source was blocked
	refusedCap     atomic.Int64 // connections refused by MaxStartups
	acl            aclFilter    // `ssh server acl` (acl.go)
}

// dummyHash is a hash to verify against for unknown users, so that "no such
// user" costs the same time as "wrong password". It is a constant rather
// than made at start: hashing at start left scrypt's 16 MiB resident in an
// idle daemon. Nobody knows its password; it only has to be well formed.
const dummyHash = "$s$14$6GnpqQOZvaPYwTpcvQkZqg$CWsTpa6v9KkjcLJSgc+GZeUF+f8jp5f3SCS/tZAenPk"

type ctxKey struct{ name string }

var keyTracked = &ctxKey{"tracked-conn"}

// New loads or creates the host key and listens on o.Listen. Serve serves.
func New(o Options) (*Server, error) {
	if o.Config == nil {
		return nil, errors.New("sshd: Options.Config is required")
	}
	s := &Server{o: o, log: o.Log, zl: o.Zap, clk: o.Clock, maxSessions: o.MaxSessions, closing: make(chan struct{})}
	if s.zl == nil {
		s.zl = zap.NewNop()
	}
	if s.log == nil {
		s.log = logbuf.New(64, s.zl, nil)
	}
	s.relayClk = o.RelayClock
	if s.relayClk == nil {
		s.relayClk = clock.Real{}
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.maxSessions <= 0 {
		s.maxSessions = DefaultMaxSessions
	}
	if s.o.KillGrace <= 0 {
		s.o.KillGrace = 2 * time.Second
	}
	if s.o.ProbeTimeout <= 0 {
		s.o.ProbeTimeout = 500 * time.Millisecond
	}
	s.vtys = make([]*vty, s.maxSessions)
	s.verifySem = make(chan struct{}, 2)
	s.def.init(s)

	signer, err := loadHostKey(o.HostKeyPath)
	if err != nil {
		return nil, err
	}
	s.signer = signer
	s.keys = newHostKeys(o.HostKeyPath, signer, s.zl)
	s.fp = gossh.FingerprintSHA256(signer.PublicKey())
	s.dummyHash = dummyHash

	listen := o.Listen
	if listen == "" {
		listen = ":22"
	}
	s.ln, err = net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	s.gs = &ssh.Server{
		Version: ServerVersion,
		// No HostSigners: serverConfig adds the host keys the connection's
		// `ssh2 algorithm public-key` list asks for (algorithms.go).
		Handler: s.handleSession,
		// Password and public key callbacks are set in serverConfig
		// (twofactor.go): gliderlabs' handlers cannot answer partial success.
		ServerConfigCallback: s.serverConfig,
		ConnCallback: func(ctx ssh.Context, conn net.Conn) net.Conn {
			if tc, ok := conn.(*trackedConn); ok {
				ctx.SetValue(keyTracked, tc)
			}
			return conn
		},
		SessionRequestCallback: func(sess ssh.Session, typ string) bool {
			return typ == "shell" || typ == "exec"
		},
		ChannelHandlers:   map[string]ssh.ChannelHandler{"session": ssh.DefaultSessionHandler},
		RequestHandlers:   map[string]ssh.RequestHandler{},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{},
	}
	s.zl.Info("ssh server listening", zap.String("addr", s.ln.Addr().String()),
		zap.String("host_key", o.HostKeyPath), zap.String("fingerprint", s.fp))
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Fingerprint is the host key's SHA256 fingerprint as ssh-keygen -l shows it.
func (s *Server) Fingerprint() string { return s.fp }

// Serve accepts connections until ctx is done, then closes the listener,
// every connection and every session (shell children get SIGHUP, SIGKILL
// after the grace period, and are always reaped) and returns.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.served {
		s.mu.Unlock()
		return errors.New("sshd: Serve called twice")
	}
	s.served = true
	s.mu.Unlock()

	acceptDone := make(chan error, 1)
	go func() { acceptDone <- s.acceptLoop() }()
	var err error
	select {
	case <-ctx.Done():
		s.shutdown()
		<-acceptDone
	case err = <-acceptDone:
		s.shutdown()
	}
	return err
}

// Close stops a server whose Serve was never called (or ends one in
// progress, like cancelling its context).
func (s *Server) Close() error {
	s.shutdown()
	return nil
}

func (s *Server) shutdown() {
	s.shutOnce.Do(func() {
		s.mu.Lock()
		close(s.closing)
		s.mu.Unlock()
		s.ln.Close()
		s.gs.Close()
		s.def.closeAll()
		s.sessWG.Wait()
		s.connWG.Wait()
		s.zl.Info("ssh server stopped")
	})
}

func (s *Server) acceptLoop() error {
	var delay time.Duration
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.closing:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				<-s.relayClk.NewTimer(delay).C()
				continue
			}
			return fmt.Errorf("sshd: accept: %w", err)
		}
		delay = 0
		cfg := s.o.Config()
		if cfg.SSH.Enabled && !s.aclAdmit(conn, cfg) { // acl.go
			conn.Close()
			continue
		}
		tc, ok := s.def.admit(conn, cfg.SSH.Enabled)
		if !ok {
			conn.Close()
			continue
		}
		authTimeout := time.Duration(cfg.SSH.AuthTimeout) * time.Second
		if authTimeout <= 0 {
			authTimeout = config.DefaultSSHAuthTimeout * time.Second
		}
		// The network layer checks deadlines against the wall clock.
		conn.SetDeadline(time.Now().Add(authTimeout))
		s.connWG.Add(1)
		go func() {
			defer s.connWG.Done()
			defer tc.Close()
			s.gs.HandleConn(tc)
		}()
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// serverConfig is called once per connection, before the handshake.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	cfg := s.o.Config()
	retries := cfg.SSH.AuthRetries
	if retries <= 0 {
		retries = config.DefaultSSHAuthRetries
	}
	tc := s.trackedOf(ctx)
	conf := &gossh.ServerConfig{
		MaxAuthTries: retries,
		AuthLogCallback: func(meta gossh.ConnMetadata, method string, err error) {
			if tc != nil {
				s.authResult(tc, meta, method, err)
			}
		},
	}
	s.authCallbacks(ctx, conf)   // twofactor.go
	s.applyAlgorithms(conf, cfg) // algorithms.go
	return conf
}

func (s *Server) trackedOf(ctx ssh.Context) *trackedConn {
	// gliderlabs calls ConnCallback (which stores it) before ServerConfigCallback.
	if v, ok := ctx.Value(keyTracked).(*trackedConn); ok {
		return v
	}
	return nil
}

func (s *Server) connClosed(c *trackedConn) {
	c.mu.Lock()
	user, loggedFail, keyUser := c.user, c.loggedFail, c.keyFailedUser
	c.mu.Unlock()
	if c.authed.Load() {
		s.log.Log("SHELL", logbuf.Notification, "SHELL_LOGOUT", fmt.Sprintf("%s logged out from %s.", user, c.src))
		return
	}
	if !loggedFail && keyUser != "" {
		s.log.Log("SSHS", logbuf.Notification, "SSHS_AUTH_FAIL",
			fmt.Sprintf("SSH user %s failed to log in from %s: no matching public key.", keyUser, c.src))
	}
}

// Sessions lists the open sessions (display users), by VTY number.
func (s *Server) Sessions() []device.VTYSession {
	now := s.clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []device.VTYSession
	for _, v := range s.vtys {
		if v == nil {
			continue
		}
		idle := now.Sub(time.Unix(0, v.lastInput.Load()))
		if idle < 0 {
			idle = 0
		}
		out = append(out, device.VTYSession{
			Idx: v.idx, Line: v.line(), Idle: idle, Since: v.since, Pid: int(v.pid.Load()),
			Type: "SSH", User: v.user, Source: v.source, Cipher: v.conn.cipher, AuthAttempts: v.conn.attempts,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Idx < out[j].Idx })
	return out
}

// vty is one occupied VTY line.
type vty struct {
	idx       int
	user      string
	source    string
	since     time.Time
	lastInput atomic.Int64 // unix nanoseconds, from the server's clock
	pid       atomic.Int64
	conn      connInfo
}

// connInfo is what `display ssh server session` shows of a session's
// connection: the cipher the server sends with and the login's
// authentication attempts.
type connInfo struct {
	cipher   string
	attempts int
}

// connInfoOf reads them from the session's connection.
func connInfoOf(sess ssh.Session, tc *trackedConn) connInfo {
	var ci connInfo
	// The *ServerConn's embedded Conn is the connection that knows them.
	if sc, ok := sess.Context().Value(ssh.ContextKeyConn).(*gossh.ServerConn); ok {
		if c, ok := sc.Conn.(gossh.AlgorithmsConnMetadata); ok {
			ci.cipher = c.Algorithms().Write.Cipher
		}
	}
	if tc != nil {
		tc.mu.Lock()
		ci.attempts = tc.attempts
		tc.mu.Unlock()
	}
	return ci
}

func (v *vty) line() string { return fmt.Sprintf("VTY %d", v.idx) }

func (v *vty) touch(now time.Time) { v.lastInput.Store(now.UnixNano()) }

// takeVTY gives the lowest free VTY line, or nil when all are in use.
func (s *Server) takeVTY(user, source string, conn connInfo) *vty {
	now := s.clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return nil
	default:
	}
	for i, v := range s.vtys {
		if v == nil {
			v = &vty{idx: i, user: user, source: source, since: now, conn: conn}
			v.touch(now)
			s.vtys[i] = v
			s.sessWG.Add(1)
			return v
		}
	}
	return nil
}

func (s *Server) freeVTY(v *vty) {
	s.mu.Lock()
	s.vtys[v.idx] = nil
	s.mu.Unlock()
	s.sessWG.Done()
}

// afterRelay runs f once d has passed on the relay clock.
func (s *Server) afterRelay(d time.Duration, f func()) {
	t := s.relayClk.NewTimer(d)
	go func() {
		<-t.C()
		f()
	}()
}

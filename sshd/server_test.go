package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/password"
)

const testPassword = "S3cret-pw"

var (
	hashOnce sync.Once
	testHash string
)

func passwordHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := password.Hash(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		testHash = h
	})
	return testHash
}

type harness struct {
	t       testing.TB
	srv     *Server
	cfg     atomic.Pointer[config.Config]
	log     *logbuf.Buffer
	clk     clock.Clock
	cancel  context.CancelFunc
	served  chan error
	clientK gossh.Signer
	clientP ed25519.PrivateKey
	mu      sync.Mutex
	modes   []string
	cleaned atomic.Int64
}

type harnessOpt func(*Options, *config.Config)

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	h.clientP = priv
	h.clientK, _ = gossh.NewSignerFromKey(priv)
	cfg := config.Default()
	cfg.SSH.Enabled = true
	cfg.LocalUsers = []config.LocalUser{
		{Name: "admin", PasswordHash: passwordHash(t), ServiceSSH: true, Role: config.RoleAdmin},
		{Name: "keyuser", ServiceSSH: true, PublicKeys: []string{string(gossh.MarshalAuthorizedKey(h.clientK.PublicKey()))}},
		{Name: "nossh", PasswordHash: passwordHash(t)},
	}
	h.log = logbuf.New(4096, nil, nil)
	o := Options{
		Listen: "127.0.0.1:0",
		Config: func() config.Config { return *h.cfg.Load() },
		Shell: func(id device.Identity, mode string) (*exec.Cmd, func(), error) {
			h.mu.Lock()
			h.modes = append(h.modes, mode)
			h.mu.Unlock()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fakeShellEnv+"="+mode)
			return cmd, func() { h.cleaned.Add(1) }, nil
		},
		Exec: func(ctx context.Context, id device.Identity, lines []string, out io.Writer) bool {
			ok := true
			for _, l := range lines {
				fmt.Fprintf(out, "exec[%s %s %s]: %s\n", id.User, id.Role, id.Line, l)
				if l == "fail" {
					ok = false
				}
			}
			return ok
		},
		Log:       h.log,
		KillGrace: 500 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o, &cfg)
	}
	h.cfg.Store(&cfg)
	h.clk = o.Clock
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.served = make(chan error, 1)
	go func() { h.served <- srv.Serve(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.served:
		if err != nil {
			h.t.Errorf("Serve: %v", err)
		}
		h.served <- nil
	case <-time.After(10 * time.Second):
		h.t.Errorf("Serve did not return after cancel")
	}
}

func (h *harness) mode(i int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.modes) {
		return ""
	}
	return h.modes[i]
}

func (h *harness) setConfig(f func(*config.Config)) {
	c := h.cfg.Load().Clone()
	f(&c)
	h.cfg.Store(&c)
}

func (h *harness) logText() string {
	var b strings.Builder
	for _, e := range h.log.Snapshot().Entries {
		fmt.Fprintf(&b, "%s/%d/%s: %s\n", e.Module, e.Severity, e.Mnemonic, e.Text)
	}
	return b.String()
}

func clientConfig(user string, auth ...gossh.AuthMethod) *gossh.ClientConfig {
	return &gossh.ClientConfig{User: user, Auth: auth, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
}

func (h *harness) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", h.srv.Addr().String(), clientConfig(user, auth...))
}

func (h *harness) admin() *gossh.Client {
	h.t.Helper()
	c, err := h.dial("admin", gossh.Password(testPassword))
	if err != nil {
		h.t.Fatalf("login: %v", err)
	}
	return c
}

// term is a client-side session with an output buffer.
type term struct {
	t      testing.TB
	sess   *gossh.Session
	in     io.WriteCloser
	mu     sync.Mutex
	out    bytes.Buffer
	more   chan struct{}
	closed chan struct{}
	answer string // answer to the probe ("" = never answer)
	probes int
}

func openTerm(t testing.TB, c *gossh.Client, pty bool, answer string, typeAhead string) *term {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	tm := &term{t: t, sess: sess, more: make(chan struct{}, 1), closed: make(chan struct{}), answer: answer}
	if pty {
		if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
			t.Fatalf("pty: %v", err)
		}
	}
	tm.in, _ = sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	if typeAhead != "" {
		io.WriteString(tm.in, typeAhead)
	}
	go func() {
		defer close(tm.closed)
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.out.Write(buf[:n])
				probes := strings.Count(tm.out.String(), "\x1b[6n")
				answer := tm.answer != "" && probes > tm.probes
				tm.probes = probes
				tm.mu.Unlock()
				if answer {
					io.WriteString(tm.in, tm.answer)
				}
				select {
				case tm.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return tm
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// expect waits until the output contains want.
func (tm *term) expect(want string, d time.Duration) string {
	tm.t.Helper()
	o, err := tm.expectErr(want, d)
	if err != nil {
		tm.t.Fatal(err)
	}
	return o
}

// expectErr is expect for goroutines other than the test's.
func (tm *term) expectErr(want string, d time.Duration) (string, error) {
	deadline := time.After(d)
	for {
		if o := tm.output(); strings.Contains(o, want) {
			return o, nil
		}
		select {
		case <-tm.more:
		case <-tm.closed:
			if o := tm.output(); strings.Contains(o, want) {
				return o, nil
			}
			return "", fmt.Errorf("session closed without %q; output %q", want, tm.output())
		case <-deadline:
			return "", fmt.Errorf("no %q within %v; output %q", want, d, tm.output())
		}
	}
}

func (tm *term) send(s string) { io.WriteString(tm.in, s) }

func (tm *term) wait(d time.Duration) error {
	tm.t.Helper()
	err, timedOut := tm.waitErr(d)
	if timedOut {
		tm.t.Fatalf("session did not end within %v; output %q", d, tm.output())
	}
	return err
}

// waitErr waits for the session's end; on timeout it closes the session.
func (tm *term) waitErr(d time.Duration) (err error, timedOut bool) {
	done := make(chan error, 1)
	go func() { done <- tm.sess.Wait() }()
	select {
	case err := <-done:
		select { // the output reader may still be copying the last bytes
		case <-tm.closed:
		case <-time.After(d):
		}
		return err, false
	case <-time.After(d):
		tm.sess.Close()
		<-done
		return nil, true
	}
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPasswordLoginExec(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	sess, _ := c.NewSession()
	out, err := sess.CombinedOutput("display clock; display version ;")
	if err != nil {
		t.Fatalf("exec: %v (%s)", err, out)
	}
	want := "exec[admin network-admin VTY 0]: display clock\nexec[admin network-admin VTY 0]: display version\n"
	if string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	sess, _ = c.NewSession()
	_, err = sess.CombinedOutput("display x; fail")
	var ee *gossh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 {
		t.Fatalf("exec failing line: err %v, want exit status 1", err)
	}
	c.Close()
	waitFor(t, 2*time.Second, "logout log", func() bool {
		return strings.Contains(h.logText(), "SHELL/5/SHELL_LOGOUT: admin logged out from 127.0.0.1.")
	})
	if !strings.Contains(h.logText(), "SHELL/5/SHELL_LOGIN: admin logged in from 127.0.0.1.") {
		t.Fatalf("log: %s", h.logText())
	}
}

func TestKeyLogin(t *testing.T) {
	h := newHarness(t)
	c, err := h.dial("keyuser", gossh.PublicKeys(h.clientK))
	if err != nil {
		t.Fatalf("key login: %v", err)
	}
	sess, _ := c.NewSession()
	out, err := sess.Output("display users")
	c.Close()
	if err != nil || !strings.Contains(string(out), "exec[keyuser network-operator VTY 0]: display users") {
		t.Fatalf("exec: %v %q", err, out)
	}
	// An unknown key is refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	os, _ := gossh.NewSignerFromKey(other)
	if _, err := h.dial("keyuser", gossh.PublicKeys(os)); err == nil {
		t.Fatal("login with an unknown key succeeded")
	}
	// A key is not a password: admin has no key.
	if _, err := h.dial("admin", gossh.PublicKeys(h.clientK)); err == nil {
		t.Fatal("admin logged in with keyuser's key")
	}
}

func TestWrongPasswordAndService(t *testing.T) {
	h := newHarness(t)
	if _, err := h.dial("admin", gossh.Password("wrong-pass-123")); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := h.dial("nossh", gossh.Password(testPassword)); err == nil {
		t.Fatal("user without service-type ssh accepted")
	}
	if _, err := h.dial("ghost", gossh.Password(testPassword)); err == nil {
		t.Fatal("unknown user accepted")
	}
	logs := h.logText()
	for _, want := range []string{
		"SSHS/5/SSHS_AUTH_FAIL: SSH user admin failed to log in from 127.0.0.1: wrong password.",
		"SSHS/5/SSHS_AUTH_FAIL: SSH user nossh failed to log in from 127.0.0.1: SSH service not authorized for the user.",
		"SSHS/5/SSHS_AUTH_FAIL: SSH user ghost failed to log in from 127.0.0.1: unknown user.",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "wrong-pass-123") || strings.Contains(logs, testPassword) {
		t.Errorf("a password is in the log:\n%s", logs)
	}
}

func TestAuthRetries(t *testing.T) {
	h := newHarness(t, func(o *Options, c *config.Config) { c.SSH.AuthRetries = 2 })
	tries := 0
	_, err := h.dial("admin", gossh.RetryableAuthMethod(gossh.PasswordCallback(func() (string, error) {
		tries++
		return "nope", nil
	}), 10))
	if err == nil || tries != 2 {
		t.Fatalf("err %v after %d tries, want failure after 2", err, tries)
	}
}

func TestDisabledServer(t *testing.T) {
	h := newHarness(t, func(o *Options, c *config.Config) { c.SSH.Enabled = false })
	start := time.Now()
	if _, err := h.dial("admin", gossh.Password(testPassword)); err == nil {
		t.Fatal("login to a disabled server succeeded")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("refusal took too long")
	}
	if !strings.Contains(h.logText(), "SSHS_SRV_UNAVAILABLE") {
		t.Fatalf("no log line: %s", h.logText())
	}
	h.setConfig(func(c *config.Config) { c.SSH.Enabled = true })
	c := h.admin()
	c.Close()
}

func TestAuthTimeout(t *testing.T) {
	h := newHarness(t, func(o *Options, c *config.Config) { c.SSH.AuthTimeout = 1 })
	conn, err := net.Dial("tcp", h.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	io.Copy(io.Discard, conn) // the server's version line, then EOF at the deadline
	if el := time.Since(start); el < 800*time.Millisecond || el > 3*time.Second {
		t.Fatalf("silent connection closed after %v, want ~1s", el)
	}
}

func TestHostKeyPersisted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh_host_ed25519_key")
	mk := func() string {
		s, err := New(Options{Listen: "127.0.0.1:0", HostKeyPath: path, Config: func() config.Config { return config.Default() }})
		if err != nil {
			t.Fatal(err)
		}
		s.ln.Close()
		return s.Fingerprint()
	}
	a, b := mk(), mk()
	if a != b || !strings.HasPrefix(a, "SHA256:") {
		t.Fatalf("fingerprints %q %q", a, b)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v %v", st.Mode(), err)
	}
}

// A PTY client that never answers cursor queries (Netmiko, expect, ssh -tt
// from a pipe) gets line mode: prompt within 1s, no escape sequence apart
// from the one probe.
func TestPTYNoAnswerLineMode(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	start := time.Now()
	tm := openTerm(t, c, true, "", "")
	tm.expect("<dev>", time.Second)
	first := time.Since(start)
	tm.send("display clock\r")
	tm.expect("<dev>display clock\r\nexecuted: display clock\r\n<dev>", 2*time.Second)
	tm.send("quit\r")
	if err := tm.wait(3 * time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	out := tm.output()
	if !strings.HasPrefix(out, "\x1b[6n") || strings.Contains(out[4:], "\x1b") {
		t.Fatalf("output has escape sequences beyond the probe: %q", out)
	}
	if m := h.mode(0); m != ModeLine {
		t.Fatalf("mode %q", m)
	}
	t.Logf("first prompt after %v (line mode, includes the %v probe)", first, 500*time.Millisecond)
}

// A client that answers the probe is a terminal: readline mode, and the
// child's own cursor queries are answered by the relay, never forwarded.
func TestPTYReadlineMode(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	start := time.Now()
	tm := openTerm(t, c, true, "\x1b[5;1R", "")
	tm.expect("<dev>", time.Second)
	first := time.Since(start)
	tm.send("pos\r")
	// Prompt at row 5 col 1; "<dev>pos" leaves the cursor at column 9.
	tm.expect("pos 5;9\r\n<dev>", 2*time.Second)
	tm.send("quit\r")
	if err := tm.wait(3 * time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if n := strings.Count(tm.output(), "\x1b[6n"); n != 1 {
		t.Fatalf("client saw %d cursor queries, want only the probe: %q", n, tm.output())
	}
	if m := h.mode(0); m != ModeReadline {
		t.Fatalf("mode %q", m)
	}
	if h.cleaned.Load() != 1 {
		t.Fatalf("cleanup ran %d times", h.cleaned.Load())
	}
	t.Logf("first prompt after %v (readline mode)", first)
}

func TestNoPTYShell(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	tm := openTerm(t, c, false, "", "display a\ndisplay b\nquit\n")
	if err := tm.wait(3 * time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	// Pipes: no echo; the shell ends each line read with "\n" itself.
	if got, want := tm.output(), "<dev>\nexecuted: display a\n<dev>\nexecuted: display b\n<dev>\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	// EOF on stdin ends the shell too.
	tm = openTerm(t, c, false, "", "display c\n")
	tm.in.Close()
	tm.wait(3 * time.Second)
	if !strings.Contains(tm.output(), "executed: display c") {
		t.Fatalf("output %q", tm.output())
	}
}

// Type-ahead: a command sent right after the shell request, before the first
// prompt, is executed — every time.
func TestTypeAhead(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	runs, par := 200, 4
	if raceEnabled {
		runs = 40
	}
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < runs; i += par {
				if failed.Load() > 0 {
					return
				}
				cmd := fmt.Sprintf("display run%d", i)
				var tm *term
				if i%2 == 0 {
					// command first, probe answer later (separate packets)
					tm = openTerm(t, c, true, "\x1b[3;1R", cmd+"\r")
				} else {
					// probe answer and command in one packet
					tm = openTerm(t, c, true, "\x1b[3;1R"+cmd+"\r", "")
				}
				if _, err := tm.expectErr("executed: "+cmd+"\r\n", 5*time.Second); err != nil {
					failed.Add(1)
					t.Errorf("run %d: %v", i, err)
				}
				tm.send("quit\r")
				if _, timedOut := tm.waitErr(5 * time.Second); timedOut {
					failed.Add(1)
					t.Errorf("run %d: quit did not end the session", i)
				}
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	t.Logf("%d readline type-ahead runs in %v", runs, el)
	if el > 60*time.Second {
		t.Fatalf("too slow: %v", el)
	}
	// Line mode (client never answers): type-ahead too.
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := fmt.Sprintf("display line%d", i)
			tm := openTerm(t, c, true, "", cmd+"\r")
			if _, err := tm.expectErr("executed: "+cmd+"\r\n", 3*time.Second); err != nil {
				t.Errorf("line mode: %v", err)
			}
			tm.send("quit\r")
			if _, timedOut := tm.waitErr(5 * time.Second); timedOut {
				t.Errorf("line mode: quit did not end the session")
			}
		}(i)
	}
	wg.Wait()
}

func TestMaxSessions(t *testing.T) {
	h := newHarness(t)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	var terms []*term
	var clients []*gossh.Client
	for i := 0; i < 16; i++ {
		if i%4 == 0 { // four connections with four sessions each
			clients = append(clients, h.admin())
		}
		tm := openTerm(t, clients[len(clients)-1], true, "\x1b[1;1R", "")
		terms = append(terms, tm)
	}
	for _, tm := range terms {
		tm.expect("<dev>", 5*time.Second)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	t.Logf("16 PTY sessions: Go heap in use +%d KiB for server and test clients together (~%d KiB per session)",
		(int64(ms1.HeapInuse)-int64(ms0.HeapInuse))/1024, (int64(ms1.HeapInuse)-int64(ms0.HeapInuse))/1024/16)
	ss := h.srv.Sessions()
	if len(ss) != 16 {
		t.Fatalf("%d sessions", len(ss))
	}
	for i, s := range ss {
		if s.Idx != i || s.Line != fmt.Sprintf("VTY %d", i) || s.User != "admin" || s.Source != "127.0.0.1" || s.Type != "SSH" || s.Pid <= 0 {
			t.Fatalf("session %d: %+v", i, s)
		}
	}
	c17 := h.admin()
	tm := openTerm(t, c17, true, "\x1b[1;1R", "")
	err := tm.wait(3 * time.Second)
	var ee *gossh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 || !strings.Contains(tm.output(), "upper limit (16)") {
		t.Fatalf("17th: err %v output %q", err, tm.output())
	}
	c17.Close()
	for _, tm := range terms {
		tm.send("quit\r")
		tm.wait(5 * time.Second)
	}
	for _, c := range clients {
		c.Close()
	}
	waitFor(t, 3*time.Second, "sessions gone", func() bool { return len(h.srv.Sessions()) == 0 })
}

func TestIdleTimeout(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC))
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.Clock = fake
		c.VTY.IdleMinutes, c.VTY.IdleSeconds = 0, 30
	})
	c := h.admin()
	defer c.Close()
	tm := openTerm(t, c, true, "\x1b[1;1R", "")
	tm.expect("<dev>", 3*time.Second)
	waitFor(t, 2*time.Second, "idle timer", func() bool { return fake.Pending() > 0 })
	fake.Advance(20 * time.Second)
	tm.send("display x\r") // input resets the idle time
	tm.expect("executed: display x", 2*time.Second)
	waitFor(t, 2*time.Second, "input seen", func() bool {
		ss := h.srv.Sessions()
		return len(ss) == 1 && ss[0].Idle == 0
	})
	fake.Advance(20 * time.Second) // 20s since input: still open
	time.Sleep(50 * time.Millisecond)
	if len(h.srv.Sessions()) != 1 {
		t.Fatal("session closed before the idle timeout")
	}
	if ss := h.srv.Sessions(); ss[0].Idle != 20*time.Second {
		t.Fatalf("idle %v", ss[0].Idle)
	}
	fake.Advance(11 * time.Second)
	tm.wait(3 * time.Second)
	if !strings.Contains(tm.output(), "idle for 0 minute(s) 30 second(s)") {
		t.Fatalf("no idle message: %q", tm.output())
	}
	waitFor(t, 2*time.Second, "session freed", func() bool { return len(h.srv.Sessions()) == 0 })
}

func TestDisconnectKillsChild(t *testing.T) {
	h := newHarness(t)
	c := h.admin() // warm-up, then the baseline
	c.Close()
	waitFor(t, 2*time.Second, "warm-up conn closed", func() bool { return h.srv.def.live() == 0 })
	time.Sleep(50 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
	for _, pty := range []bool{true, false, true} {
		c := h.admin()
		tm := openTerm(t, c, pty, "\x1b[1;1R", "")
		tm.expect("<dev>", 3*time.Second)
		ss := h.srv.Sessions()
		if len(ss) != 1 || ss[0].Pid <= 0 {
			t.Fatalf("sessions %+v", ss)
		}
		pid := ss[0].Pid
		c.Close()
		waitFor(t, 3*time.Second, "session end", func() bool { return len(h.srv.Sessions()) == 0 })
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("child %d still there: %v", pid, err)
		}
	}
	waitBaseline(t, baseG, baseFD)
}

// waitBaseline waits until goroutines and open descriptors are back to the
// baseline (PTY masters and slaves, pipes, sockets all closed).
func waitBaseline(t *testing.T, baseG, baseFD int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, fd := runtime.NumGoroutine(), openFDs(t)
		if g <= baseG+1 && fd <= baseFD {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d (baseline %d), fds %d (baseline %d)\n%s", g, baseG, fd, baseFD, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownEndsSessions(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	tm := openTerm(t, c, true, "\x1b[1;1R", "")
	tm.expect("<dev>", 3*time.Second)
	pid := h.srv.Sessions()[0].Pid
	h.stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("child %d survived shutdown: %v", pid, err)
	}
	if h.cleaned.Load() != 1 {
		t.Fatal("cleanup not run")
	}
}

func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Brute force from one source: most attempts are refused before the
// handshake; another source logs in meanwhile; nothing leaks.
func TestBruteForce(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC))
	h := newHarness(t, func(o *Options, c *config.Config) { o.Clock = fake })
	// warm up, then take the baseline
	c := h.admin()
	c.Close()
	waitFor(t, 2*time.Second, "warm-up conn closed", func() bool { return h.srv.def.live() == 0 })
	time.Sleep(50 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)

	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	var authFailed, refused int
	start := time.Now()
	for i := 0; i < 1000; i++ {
		conn, err := d.Dial("tcp", h.srv.Addr().String())
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		_, _, _, err = gossh.NewClientConn(conn, h.srv.Addr().String(), clientConfig("admin", gossh.Password("guess"+fmt.Sprint(i))))
		conn.Close()
		switch {
		case err == nil:
			t.Fatal("wrong password accepted")
		case strings.Contains(err.Error(), "unable to authenticate"):
			authFailed++
		default:
			refused++
		}
		if i == 500 {
			// Meanwhile, the right password from another source works.
			c := h.admin()
			sess, _ := c.NewSession()
			out, err := sess.Output("display clock")
			c.Close()
			if err != nil || !strings.Contains(string(out), "display clock") {
				t.Fatalf("login from 127.0.0.1 during the attack: %v %q", err, out)
			}
		}
	}
	t.Logf("1000 attempts in %v: %d reached the password check, %d refused before the handshake", time.Since(start), authFailed, refused)
	if authFailed > PenaltyThreshold+2 || refused < 990 {
		t.Fatalf("penalty not effective: %d auth failures, %d refused", authFailed, refused)
	}
	if !strings.Contains(h.logText(), "SSHS/4/SSHS_SRC_BLOCKED: Blocked source 127.0.0.2 for 10 seconds after 5 failed logins.") {
		t.Fatalf("log: %s", h.logText())
	}
	if n := strings.Count(h.logText(), "SSHS_SRC_BLOCKED"); n > 3 {
		t.Fatalf("%d SRC_BLOCKED lines: not rate-limited", n)
	}
	// The block expires: after 10s (fake) the source may try again; the
	// next block doubles.
	fake.Advance(11 * time.Second)
	conn, _ := d.Dial("tcp", h.srv.Addr().String())
	_, _, _, err := gossh.NewClientConn(conn, h.srv.Addr().String(), clientConfig("admin", gossh.Password(testPassword)))
	conn.Close()
	if err != nil {
		t.Fatalf("login after the block expired: %v", err)
	}

	waitFor(t, 5*time.Second, "connections closed", func() bool { return h.srv.def.live() == 0 })
	waitBaseline(t, baseG, baseFD)
}

func TestPenaltyDoubles(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC))
	h := newHarness(t, func(o *Options, c *config.Config) { o.Clock = fake })
	d := &h.srv.def
	for round, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
		for i := 0; i < PenaltyThreshold; i++ {
			d.failed("10.1.1.1")
		}
		if !d.blocked("10.1.1.1") {
			t.Fatalf("round %d: not blocked", round)
		}
		fake.Advance(want - time.Second)
		if !d.blocked("10.1.1.1") {
			t.Fatalf("round %d: block shorter than %v", round, want)
		}
		fake.Advance(time.Second)
		if d.blocked("10.1.1.1") {
			t.Fatalf("round %d: block longer than %v", round, want)
		}
	}
	// Forgotten after a quiet period: back to 10s.
	fake.Advance(PenaltyForget + time.Second)
	for i := 0; i < PenaltyThreshold; i++ {
		d.failed("10.1.1.1")
	}
	fake.Advance(10 * time.Second)
	if d.blocked("10.1.1.1") {
		t.Fatal("penalty level not forgotten")
	}
}

func TestWindowChange(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	tm := openTerm(t, c, true, "\x1b[1;1R", "")
	tm.expect("<dev>", 3*time.Second)
	tm.send("size\r")
	tm.expect("size 80x24\r\n", 2*time.Second)
	if err := tm.sess.WindowChange(40, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	tm.send("size\r")
	tm.expect("size 100x40\r\n", 2*time.Second)
	// The cursor model wraps at the new width: the prompt is on row 5;
	// "<dev>echo " + 92 characters = 102 columns: row 6, column 3.
	tm.send("echo " + strings.Repeat("x", 92) + "\r")
	tm.expect("echo-pos 6;3\r\n", 2*time.Second)
	tm.send("quit\r")
	tm.wait(3 * time.Second)
}

// The real readline library as the child: type-ahead before the first
// prompt and commands typed at once are never lost, and the client sees no
// cursor query but the probe.
func TestRealReadline(t *testing.T) {
	if raceEnabled {
		t.Skip("readline has data races of its own (resize handling); the child is a race binary here")
	}
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.Shell = func(id device.Identity, mode string) (*exec.Cmd, func(), error) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			child := mode
			if mode == ModeReadline {
				child = "reeflective"
			}
			cmd.Env = append(os.Environ(), fakeShellEnv+"="+child, "INPUTRC=/dev/null")
			return cmd, nil, nil
		}
	})
	c := h.admin()
	defer c.Close()
	t0 := time.Now()
	tm := openTerm(t, c, true, "\x1b[1;1R", "")
	tm.expect("<dev>", 3*time.Second)
	t.Logf("first prompt from reeflective/readline %v after the shell request", time.Since(t0))
	// A paste of 30 commands in one packet: all run, in order.
	var paste strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&paste, "display paste%d\r", i)
	}
	tm.send(paste.String())
	out := tm.expect("executed: display paste29\r\n", 10*time.Second)
	last := 0
	for i := 0; i < 30; i++ {
		at := strings.Index(out, fmt.Sprintf("executed: display paste%d\r\n", i))
		if at < last {
			t.Fatalf("paste: command %d missing or out of order: %q", i, out)
		}
		last = at
	}
	tm.send("quit\r")
	tm.wait(3 * time.Second)
	runs, par := 60, 3
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < runs; i += par {
				cmd := fmt.Sprintf("display run%d", i)
				tm := openTerm(t, c, true, "\x1b[3;1R", cmd+"\r")
				if _, err := tm.expectErr("executed: "+cmd+"\r\n", 5*time.Second); err != nil {
					t.Errorf("run %d: %v", i, err)
				}
				tm.send("display second\rdisplay third\r")
				if _, err := tm.expectErr("executed: display third\r\n", 5*time.Second); err != nil {
					t.Errorf("run %d: %v", i, err)
				}
				tm.send("quit\r")
				if _, timedOut := tm.waitErr(5 * time.Second); timedOut {
					t.Errorf("run %d: quit did not end the session; output %q", i, tm.output())
				}
				if n := strings.Count(tm.output(), "\x1b[6n"); n != 1 {
					t.Errorf("run %d: client saw %d cursor queries", i, n)
				}
				if !strings.Contains(tm.output(), "executed: display second\r\n") {
					t.Errorf("run %d: second command lost: %q", i, tm.output())
				}
			}
		}(w)
	}
	wg.Wait()
	t.Logf("%d sessions with reeflective/readline in %v", runs, time.Since(start))
}

// A child that ignores SIGHUP is killed after the grace period and reaped.
func TestStubbornChildKilled(t *testing.T) {
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.Shell = func(id device.Identity, mode string) (*exec.Cmd, func(), error) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fakeShellEnv+"=stubborn")
			return cmd, nil, nil
		}
	})
	c := h.admin()
	tm := openTerm(t, c, true, "\x1b[1;1R", "")
	tm.expect("<dev>", 3*time.Second)
	pid := h.srv.Sessions()[0].Pid
	start := time.Now()
	c.Close()
	waitFor(t, 3*time.Second, "session end", func() bool { return len(h.srv.Sessions()) == 0 })
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("ended after %v: SIGHUP was not ignored?", el)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("child %d still there: %v", pid, err)
	}
}

// OpenSSH's client: key login, exec with exit status, `ssh -tt` fed from a
// pipe (line mode), and the host key file read by ssh-keygen.
func TestOpenSSHClient(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no OpenSSH client: scripts/install-test-deps.sh installs it")
		}
		t.Skip("no OpenSSH client")
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_key")
	h := newHarness(t, func(o *Options, c *config.Config) { o.HostKeyPath = hostKey })
	if kg, err := exec.LookPath("ssh-keygen"); err == nil {
		out, err := exec.Command(kg, "-l", "-f", hostKey).CombinedOutput()
		if err != nil || !strings.Contains(string(out), h.srv.Fingerprint()) {
			t.Fatalf("ssh-keygen -l: %v %s (want %s)", err, out, h.srv.Fingerprint())
		}
	}
	block, err := gossh.MarshalPrivateKey(h.clientP, "")
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(idFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(h.srv.Addr().(*net.TCPAddr).Port)
	run := func(stdin string, opt string, command string) (string, int) {
		args := []string{"-F", "/dev/null", "-i", idFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			"-p", port, opt, "keyuser@127.0.0.1"}
		if command != "" {
			args = append(args, command)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, sshBin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("ssh: %v", err)
		}
		return string(out), code
	}
	out, code := run("", "-T", "display clock; display version")
	if code != 0 || out != "exec[keyuser network-operator VTY 0]: display clock\nexec[keyuser network-operator VTY 0]: display version\n" {
		t.Fatalf("exec: %d %q", code, out)
	}
	if _, code := run("", "-T", "fail"); code != 1 {
		t.Fatalf("exec fail: exit %d", code)
	}
	// ssh -tt from a pipe: nobody answers the probe: line mode.
	start := time.Now()
	out, code = run("display x\rquit\r", "-tt", "")
	if code != 0 || !strings.Contains(out, "executed: display x") || strings.Count(out, "\x1b") != 1 {
		t.Fatalf("ssh -tt: exit %d output %q", code, out)
	}
	t.Logf("ssh -tt session (line mode) took %v; output %q", time.Since(start), out)
}

func TestIdleTimeoutDisabled(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC))
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.Clock = fake
		c.VTY.IdleMinutes, c.VTY.IdleSeconds = 0, 0
	})
	c := h.admin()
	defer c.Close()
	tm := openTerm(t, c, false, "", "")
	tm.expect("<dev>", 3*time.Second)
	waitFor(t, 2*time.Second, "idle timer", func() bool { return fake.Pending() > 0 })
	fake.Advance(24 * time.Hour)
	time.Sleep(50 * time.Millisecond)
	if len(h.srv.Sessions()) != 1 {
		t.Fatal("idle-timeout 0 0 closed the session")
	}
	// Setting a timeout applies to the open session.
	h.setConfig(func(c *config.Config) { c.VTY.IdleMinutes = 1 })
	fake.Advance(time.Minute) // the disabled timer re-checks every minute
	tm.wait(3 * time.Second)
}

// A cursor report that arrives after the probe gave up never reaches the
// line-mode shell.
func TestLateProbeAnswer(t *testing.T) {
	h := newHarness(t, func(o *Options, c *config.Config) { o.ProbeTimeout = 100 * time.Millisecond })
	c := h.admin()
	defer c.Close()
	tm := openTerm(t, c, true, "", "")
	tm.expect("<dev>", 3*time.Second)
	tm.send("\x1b[7;1R")
	tm.send("display y\r")
	out := tm.expect("executed: display y\r\n", 2*time.Second)
	if strings.Contains(out, "R") && strings.Contains(out, "[7;1R") || strings.Contains(out[4:], "\x1b") {
		t.Fatalf("late report reached the shell: %q", out)
	}
	if m := h.mode(0); m != ModeLine {
		t.Fatalf("mode %q", m)
	}
}

// TestExecStatusBeforeItsEffects: a command whose effect starts when its
// context ends (`reboot` stops the daemon and every connection with it)
// has its exit status sent before that. The stub's "effect" is a second
// exit status: it is refused once the real one is out, and the client
// would see it otherwise.
func TestExecStatusBeforeItsEffects(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *config.Config) {
		o.Exec = func(ctx context.Context, _ device.Identity, _ []string, out io.Writer) bool {
			io.WriteString(out, "Now rebooting, please wait...\n")
			sess := out.(ssh.Session)
			go func() {
				<-ctx.Done()
				sess.Exit(99)
			}()
			return true
		}
	})
	c := h.admin()
	defer c.Close()
	// The old order (context ended, then status) lost this race about
	// once in 40 runs.
	for i := range 100 {
		sess, _ := c.NewSession()
		out, err := sess.CombinedOutput("reboot")
		if err != nil || string(out) != "Now rebooting, please wait...\n" {
			t.Fatalf("run %d: %q %v", i, out, err)
		}
	}
}

package tests

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const adminPassword = "Adm1n-e2e-pass"

// startSSHDevice runs a device whose first boot creates local-user admin.
func startSSHDevice(t *testing.T) *device {
	t.Helper()
	return startDevice(t, "", "--admin-password-file", adminPasswordFile(t))
}

func adminPasswordFile(t *testing.T) string {
	pw := filepath.Join(t.TempDir(), "admin-pw")
	if err := os.WriteFile(pw, []byte(adminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return pw
}

// startRaceDevice is startSSHDevice with the daemon built with -race.
func startRaceDevice(t *testing.T) *device {
	t.Helper()
	_, err := os.Stat(bin("netdevd-race"))
	require(t, err == nil, "bin/netdevd-race (make test builds it)")
	d := &device{t: t, dataDir: t.TempDir(), sshAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		args: []string{"--admin-password-file", adminPasswordFile(t)}, binary: "netdevd-race"}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func dialSSH(t *testing.T, addr, user, pass string) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.Password(pass)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh %s@%s: %v", user, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sshExec runs command over a new session and returns output and status.
func sshExec(t *testing.T, c *ssh.Client, command string) (string, int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(command)
	if ee, ok := err.(*ssh.ExitError); ok {
		return string(out), ee.ExitStatus()
	} else if err != nil {
		t.Fatalf("exec %q: %v", command, err)
	}
	return string(out), 0
}

func TestSSHExec(t *testing.T) {
	d := startSSHDevice(t)
	c := dialSSH(t, d.sshAddr, "admin", adminPassword)
	out, code := sshExec(t, c, "display cloud-management state")
	if code != 0 || !strings.HasPrefix(out, "Cloud connection state   : Idle\n") {
		t.Fatalf("status %d, output:\n%s", code, out)
	}
	out, code = sshExec(t, c, "system-view; sysname via-exec; display this | include sysname")
	if code != 0 || !strings.Contains(out, " sysname via-exec") {
		t.Fatalf("multi-line exec: status %d:\n%s", code, out)
	}
	out, code = sshExec(t, c, "display clound")
	if code == 0 || !strings.Contains(out, "% Unrecognized command found at '^' position.") {
		t.Fatalf("bad line: status %d:\n%s", code, out)
	}
}

func TestSSHWrongPasswordRefused(t *testing.T) {
	d := startSSHDevice(t)
	_, err := ssh.Dial("tcp", d.sshAddr, &ssh.ClientConfig{
		User: "admin", Auth: []ssh.AuthMethod{ssh.Password("Wr0ng-Attempt-77")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	logs := d.mustExec("display logbuffer")
	if !strings.Contains(logs, "SSHS_AUTH_FAIL") || !strings.Contains(logs, "admin") {
		t.Fatalf("failed login not logged:\n%s", logs)
	}
	if strings.Contains(logs, "Wr0ng-Attempt-77") {
		t.Fatalf("the attempted password reached the log:\n%s", logs)
	}
}

func TestSSHOperatorMayOnlyDisplay(t *testing.T) {
	d := startSSHDevice(t)
	d.mustExec("system-view", "local-user op class manage", "password simple Op3rator-pw",
		"service-type ssh", "authorization-attribute user-role network-operator")
	c := dialSSH(t, d.sshAddr, "op", "Op3rator-pw")
	if out, code := sshExec(t, c, "display version"); code != 0 {
		t.Fatalf("operator display: %d\n%s", code, out)
	}
	out, code := sshExec(t, c, "system-view")
	if code == 0 || !strings.Contains(out, "Permission denied.") {
		t.Fatalf("operator system-view: status %d:\n%s", code, out)
	}
	if cur := d.mustExec("display current-configuration"); strings.Contains(cur, "via-op") {
		t.Fatal("operator changed the configuration")
	}
}

// ptyShell opens an interactive session that never answers cursor
// queries: what Netmiko, expect and paramiko look like to the device.
type ptyShell struct {
	t    *testing.T
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	sess *ssh.Session
	// closed is closed when the test ends (helpers watching the output stop).
	closed chan struct{}
}

func openPTYShell(t *testing.T, c *ssh.Client) *ptyShell {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyShell{t: t, sess: s, closed: make(chan struct{})}
	p.in, _ = s.StdinPipe()
	s.Stdout = p
	if err := s.RequestPty("vt100", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(p.closed)
		s.Close()
	})
	return p
}

func (p *ptyShell) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *ptyShell) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitOutput waits until the output holds want.
func (p *ptyShell) waitOutput(want string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(p.text(), want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.t.Fatalf("no %q within %v; output so far:\n%q", want, timeout, p.text())
}

func TestSSHScriptClientGetsCleanLineMode(t *testing.T) {
	d := startSSHDevice(t)
	c := dialSSH(t, d.sshAddr, "admin", adminPassword)
	start := time.Now()
	p := openPTYShell(t, c)
	p.waitOutput("<netdevd>", time.Second)
	t.Logf("first prompt after %v", time.Since(start))
	fmt.Fprint(p.in, "display clock\r")
	p.waitOutput("<netdevd>display clock", 2*time.Second)
	fmt.Fprint(p.in, "screen-length disable\rdisplay current-configuration\r")
	p.waitOutput("return\r\n<netdevd>", 2*time.Second)
	// The relay's one terminal probe is the only escape sequence a script
	// ever sees; everything after the first prompt is plain text.
	after := p.text()[strings.Index(p.text(), "<netdevd>"):]
	if strings.ContainsRune(after, 0x1b) {
		t.Fatalf("escape sequence in line-mode output: %q", after)
	}
	fmt.Fprint(p.in, "quit\r")
	done := make(chan error, 1)
	go func() { done <- p.sess.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end after quit")
	}
}

// TestSSHSixteenSessionsConfigureConcurrently: all 16 VTY lines change the
// configuration at once, against a daemon built with -race; no change is
// lost and the race detector reports nothing.
func TestSSHSixteenSessionsConfigureConcurrently(t *testing.T) {
	d := startRaceDevice(t)
	var shells []*ptyShell
	var shellsMu sync.Mutex
	const sessions, hostsEach = 16, 5
	var wg sync.WaitGroup
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := dialSSH(t, d.sshAddr, "admin", adminPassword)
			p := openPTYShell(t, c)
			shellsMu.Lock()
			shells = append(shells, p)
			shellsMu.Unlock()
			p.waitOutput("<netdevd>", 10*time.Second)
			var lines strings.Builder
			lines.WriteString("system-view\r")
			for j := 0; j < hostsEach; j++ {
				fmt.Fprintf(&lines, "ip host s%d-%d.example.test 10.%d.0.%d\r", i, j, i, j+1)
			}
			lines.WriteString("return\r")
			fmt.Fprint(p.in, lines.String())
			// Typed ahead, and still echoed as a device does: each line
			// after the prompt it answers, when the shell reads it. The
			// session is done when it is back in user view.
			var want strings.Builder
			want.WriteString("System View: return to User View with Ctrl+Z.\r\n")
			for j := 0; j < hostsEach; j++ {
				fmt.Fprintf(&want, "[netdevd]ip host s%d-%d.example.test 10.%d.0.%d\r\n", i, j, i, j+1)
			}
			want.WriteString("[netdevd]return\r\n<netdevd>")
			p.waitOutput(want.String(), 20*time.Second)
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	cur := d.mustExec("display current-configuration")
	if n := strings.Count(cur, " ip host s"); n != sessions*hostsEach {
		t.Fatalf("%d ip host lines, want %d:\n%s", n, sessions*hostsEach, cur)
	}
	for _, p := range shells { // shell children are race builds too
		if strings.Contains(p.text(), "DATA RACE") {
			t.Fatalf("race in a shell child:\n%s", p.text())
		}
	}
	d.stop()
	if strings.Contains(d.stderr.String(), "DATA RACE") {
		t.Fatalf("race detector in the daemon:\n%s", d.stderr.String())
	}
}

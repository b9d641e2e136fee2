package tests

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemPython is Debian's python3, where python3-netmiko is installed.
const systemPython = "/usr/bin/python3"

func TestNetmikoHPComware(t *testing.T) {
	require(t, exec.Command(systemPython, "-c", "import netmiko").Run() == nil,
		"python3-netmiko (scripts/install-test-deps.sh)")
	d := startSSHDevice(t)
	host, port, _ := net.SplitHostPort(d.sshAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, systemPython, "testdata/netmiko_comware.py", host, port, "admin", adminPassword).CombinedOutput()
	if err != nil {
		t.Fatalf("netmiko: %v\n%s", err, out)
	}
	for _, want := range []string{"PROMPT <netdevd>", "VERSION True", "CONFIG_OUTPUT_ERRORS False", "SAVED True"} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("netmiko output lacks %q:\n%s", want, out)
		}
	}
	saved, err := os.ReadFile(filepath.Join(d.dataDir, "startup.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		" cloud-management server domain netmiko.example.test\n",
		" cloud-management backup-server domain backup1.example.test port 20443\n",
		" cloud-management keepalive 45\n",
	} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("startup.cfg lacks %q:\n%s", want, saved)
		}
	}
}

// tmuxSession runs OpenSSH's ssh in a detached tmux session, so the test
// types and reads the screen as a person at a terminal would.
type tmuxSession struct {
	t    *testing.T
	name string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	name := "netdevd-e2e-" + strings.ReplaceAll(t.Name(), "/", "-")
	exec.Command("tmux", "kill-session", "-t", name).Run()
	err := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height), command).Run()
	if err != nil {
		t.Fatalf("tmux: %v", err)
	}
	s := &tmuxSession{t: t, name: name}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", name).Run() })
	return s
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if err := exec.Command("tmux", append([]string{"send-keys", "-t", s.name}, keys...)...).Run(); err != nil {
		s.t.Fatalf("send-keys %q: %v", keys, err)
	}
}

func (s *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

// waitScreen waits until the screen holds want.
func (s *tmuxSession) waitScreen(want string, timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q; it shows:\n%s", want, scr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOpenSSHClientInTerminal(t *testing.T) {
	require(t, haveCommand("tmux") && haveCommand("ssh"), "tmux and openssh-client (scripts/install-test-deps.sh)")
	d := startSSHDevice(t)
	host, port, _ := net.SplitHostPort(d.sshAddr)
	s := newTmux(t, 100, 30, "ssh -p "+port+" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "+
		"-o PubkeyAuthentication=no admin@"+host)
	s.waitScreen("password:", 10*time.Second)
	s.keys(adminPassword, "Enter")
	s.waitScreen("<netdevd>", 10*time.Second)

	// An error caret under the typo.
	s.keys("display clound-management state", "Enter")
	scr := s.waitScreen("% Unrecognized command found at '^' position.", 5*time.Second)
	if !strings.Contains(scr, "<netdevd>display clound-management state\n                 ^\n") {
		t.Errorf("caret not under the typo:\n%s", scr)
	}

	// ? lists the commands; the line typed so far comes back.
	s.keys("dis", "?")
	s.waitScreen("display", 5*time.Second)
	s.keys("C-u")

	// Tab completes a unique keyword.
	s.keys("system-v", "Tab")
	s.waitScreen("<netdevd>system-view", 5*time.Second)
	s.keys("Enter")
	s.waitScreen("[netdevd]", 5*time.Second)
	s.keys("sysname tmux-dev", "Enter")
	s.waitScreen("[tmux-dev]", 5*time.Second)

	// History: up arrow brings back the last command.
	s.keys("Up")
	s.waitScreen("[tmux-dev]sysname tmux-dev", 5*time.Second)
	s.keys("C-u")

	// Resize, then output still lands on clean lines.
	exec.Command("tmux", "resize-window", "-t", s.name, "-x", "60", "-y", "20").Run()
	s.keys("return", "Enter")
	s.waitScreen("<tmux-dev>", 5*time.Second)
	s.keys("quit", "Enter")
	// quit in user view ends the session: ssh exits and tmux with it (the
	// bound is generous: a loaded CI machine is slow to reap and close).
	deadline := time.Now().Add(15 * time.Second)
	for exec.Command("tmux", "has-session", "-t", s.name).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("ssh still running 15 s after quit; screen:\n%s", s.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package tests

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTypedLinesAllRun (issue 17 item 9): 200 lines typed on a terminal
// (tmux), each line's text with its Enter right behind it and the lines
// back to back, all run: on the console (`netdevd shell`) and over SSH
// (OpenSSH's client). Before the console shell ran behind the relay, the
// terminal's answers to readline's cursor queries arrived in the same
// read() as the keys typed meanwhile and readline dropped those keys.
func TestTypedLinesAllRun(t *testing.T) {
	require(t, haveCommand("tmux") && haveCommand("ssh"), "tmux and openssh-client (scripts/install-test-deps.sh)")
	t.Run("console", func(t *testing.T) {
		d := startDevice(t, "")
		s := newTmux(t, 120, 40, bin("netdevd")+" shell --data-dir "+d.dataDir)
		s.waitScreen("<netdevd>", 10*time.Second)
		typeHosts(t, s, d)
	})
	t.Run("ssh", func(t *testing.T) {
		d := startSSHDevice(t)
		host, port, _ := net.SplitHostPort(d.sshAddr)
		s := newTmux(t, 120, 40, "ssh -p "+port+" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "+
			"-o PubkeyAuthentication=no admin@"+host)
		s.waitScreen("password:", 10*time.Second)
		s.keys(adminPassword, "Enter")
		s.waitScreen("<netdevd>", 10*time.Second)
		typeHosts(t, s, d)
	})
}

// typeHosts types 200 `ip host` lines in system view in one burst and
// waits until the device has every one of them, each with its address.
func typeHosts(t *testing.T, s *tmuxSession, d *device) {
	t.Helper()
	const n = 200
	keys := []string{"system-view", "Enter"}
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf(" ip host h%d.example.test 192.0.2.%d\n", i, i%250+1)
		keys = append(keys, strings.TrimSpace(want[i]), "Enter")
	}
	s.keys(keys...) // one send-keys: text and Enters back to back
	var cur string
	deadline := time.Now().Add(90 * time.Second)
	for {
		cur = d.mustExec("display current-configuration | include ip host")
		if strings.Count(cur, "\n") >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(cur, w) {
			t.Errorf("lost: %q", strings.TrimSpace(w))
		}
	}
	if strings.Count(cur, "\n") != n {
		t.Errorf("%d ip host lines, want %d", strings.Count(cur, "\n"), n)
	}
	if t.Failed() {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-S", "-", "-t", s.name).Output()
		t.Logf("screen and history:\n%s", out)
	}
}

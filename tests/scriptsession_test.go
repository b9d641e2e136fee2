package tests

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/scriptclient"
)

// Issue 11: script sessions lose their first command. The real daemon
// (race build: its shell children are race binaries too), driven by an
// x/crypto client that reads like a screen scraper: each pattern (Enter at
// once; Enter anywhere in the terminal probe or while the shell starts; the
// command within 1 ms of the first prompt) with TERM xterm, vt100 and dumb.
// Before the fix every Paramiko session failed: the return typed during the
// probe was echoed ahead of the first prompt and the answer landed on its
// line ("<netdevd><netdevd>").
func TestScriptSessionPatterns(t *testing.T) {
	d := startRaceDevice(t)
	fds := openFDs(t, d.cmd.Process.Pid)
	base := scriptclient.Options{Prompt: "<netdevd>", Command: "screen-length disable", Wait: 20 * time.Second}
	ran, failed := scriptclient.Lanes(context.Background(), func() (*ssh.Client, error) {
		return ssh.Dial("tcp", d.sshAddr, &ssh.ClientConfig{
			User: "admin", Auth: []ssh.AuthMethod{ssh.Password(adminPassword)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second,
		})
	}, base, 4)
	for _, err := range failed {
		t.Error(err)
	}
	if want := 4 * len(scriptclient.Terms) * len(scriptclient.Patterns); ran != want {
		t.Fatalf("ran %d sessions, want %d", ran, want)
	}
	sessionsEnded(t, d, fds)
}

// The reproduction with the real client: Debian's python3-paramiko,
// 200 sessions (5 clients side by side, 40 sessions each, in a row). The
// daemon is the plain build: a login costs one scrypt, which the race build
// makes several times slower; TestScriptSessionPatterns covers the relay
// under the race detector.
func TestParamikoScriptSessions(t *testing.T) {
	require(t, exec.Command(systemPython, "-c", "import paramiko").Run() == nil,
		"python3-paramiko (scripts/install-test-deps.sh)")
	d := startSSHDevice(t)
	fds := openFDs(t, d.cmd.Process.Pid)
	host, port, _ := net.SplitHostPort(d.sshAddr)
	const clients, each = 5, 40
	script, err := filepath.Abs("testdata/paramiko_script_sessions.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	sessions, lostN := 0, 0
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, systemPython, script, host, port, "admin", adminPassword,
				strconv.Itoa(each), "20")
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			ok, lost, summary := parseParamikoRun(string(out))
			mu.Lock()
			defer mu.Unlock()
			sessions += ok + len(lost)
			lostN += len(lost)
			for _, l := range lost {
				t.Error(l)
			}
			if err != nil || summary != fmt.Sprintf("SUMMARY lost=%d sessions=%d", len(lost), each) {
				t.Errorf("paramiko client: %v, summary %q; output:\n%s", err, summary, out)
			}
		}()
	}
	wg.Wait()
	if sessions != clients*each {
		t.Fatalf("%d sessions ran, want %d", sessions, clients*each)
	}
	if lostN > 0 {
		t.Fatalf("%d of %d paramiko sessions lost their first command", lostN, sessions)
	}
	sessionsEnded(t, d, fds)
}

// parseParamikoRun reads the script's output: sessions passed, the LOST
// lines, and the summary line.
func parseParamikoRun(out string) (ok int, lost []string, summary string) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		switch l := sc.Text(); {
		case strings.HasPrefix(l, "OK "):
			ok++
		case strings.HasPrefix(l, "LOST "):
			lost = append(lost, l)
		case strings.HasPrefix(l, "SUMMARY "):
			summary = l
		}
	}
	return ok, lost, summary
}

// sessionsEnded waits until the device lists no SSH session (a VTY line is
// freed only after its shell child has been reaped) and the daemon holds
// no more descriptors than before the sessions (fdsBefore): sessions that
// churn leave nothing behind.
func sessionsEnded(t *testing.T, d *device, fdsBefore int) {
	t.Helper()
	waitFor(t, 20*time.Second, "no SSH session left", func() bool {
		out, code := d.exec("display users")
		return code == 0 && !strings.Contains(out, " SSH ")
	})
	waitFor(t, 20*time.Second, "descriptors back to their number before the sessions", func() bool {
		return openFDs(t, d.cmd.Process.Pid) <= fdsBefore
	})
}

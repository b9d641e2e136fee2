package tests

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
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
	const perTerm = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lost []string
	total := 0
	for i, p := range scriptclient.Patterns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ssh.Dial("tcp", d.sshAddr, &ssh.ClientConfig{
				User: "admin", Auth: []ssh.AuthMethod{ssh.Password(adminPassword)},
				HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second,
			})
			if err != nil {
				t.Errorf("ssh: %v", err)
				return
			}
			defer c.Close()
			r := rand.New(rand.NewPCG(uint64(i), 11))
			for n := range perTerm * len(scriptclient.Terms) {
				err := scriptclient.Run(context.Background(), c, scriptclient.Options{
					Pattern: p, Term: scriptclient.Terms[n%len(scriptclient.Terms)],
					Prompt: "<netdevd>", Command: "screen-length disable", Wait: 20 * time.Second, Rand: r,
				})
				mu.Lock()
				total++
				if err != nil {
					lost = append(lost, err.Error())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, l := range lost {
		t.Error(l)
	}
	if want := perTerm * len(scriptclient.Terms) * len(scriptclient.Patterns); total != want {
		t.Fatalf("ran %d sessions, want %d", total, want)
	}
	waitNoShellChildren(t, d)
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
	waitNoShellChildren(t, d)
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

// waitNoShellChildren waits until every shell child of the daemon has been
// reaped: sessions that churn leave nothing behind.
func waitNoShellChildren(t *testing.T, d *device) {
	t.Helper()
	pid := d.cmd.Process.Pid
	waitFor(t, 20*time.Second, "the daemon's shell children reaped", func() bool {
		return len(childPIDs(pid)) == 0
	})
}

// childPIDs lists the processes whose parent is ppid.
func childPIDs(ppid int) []int {
	var kids []int
	dirs, _ := os.ReadDir("/proc")
	for _, e := range dirs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so cut after ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			kids = append(kids, pid)
		}
	}
	return kids
}

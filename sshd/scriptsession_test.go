package sshd

import (
	"context"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/scriptclient"
)

// Issue 11: script sessions (a PTY, nobody answering the terminal probe)
// must never lose their first command, whatever the instant of their first
// Enter (at once, anywhere in the probe, while the shell starts) and
// however soon after a prompt the command follows, for every TERM. The
// child is the real line-mode shell (fakeLine = cli/shell.RunLine).
//
// Before the fix the return typed during the probe was replayed into a PTY
// in cooked mode: the kernel echoed it ahead of the first prompt and the
// answer landed on the prompt's line ("<dev><dev>"), so no prompt stood on
// a line of its own and the scraper waited in vain (every Paramiko session
// failed here).
func TestScriptSessionsKeepFirstCommand(t *testing.T) {
	perCase := 6
	if raceEnabled {
		perCase = 3 // every child is a race binary
	}
	h := newHarness(t)
	base := scriptclient.Options{Prompt: "<dev>", Command: "screen-length disable", Wait: 10 * time.Second}
	ran, failed := scriptclient.Lanes(context.Background(), func() (*gossh.Client, error) {
		return h.dial("admin", gossh.Password(testPassword))
	}, base, perCase)
	for _, err := range failed {
		t.Error(err)
	}
	if want := perCase * len(scriptclient.Terms) * len(scriptclient.Patterns); ran != want {
		t.Fatalf("ran %d sessions, want %d", ran, want)
	}
}

// The relay puts a line-mode PTY in line-input mode before the child runs
// and before the probe's type-ahead reaches it: the kernel echoes nothing,
// translates no CR, and Ctrl+C is a byte, not a signal, even before the
// shell has set its own mode.
func TestLineModePTYBornInLineInput(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	defer c.Close()
	// Ctrl+C then a line with CRLF, all before the probe ends.
	tm := openTerm(t, c, true, "", "\x03display a\r\n")
	out := tm.expect("executed: display a\r\n<dev>", 5*time.Second)
	if want := "\x1b[6n<dev>^C\r\n<dev>display a\r\nexecuted: display a\r\n<dev>"; out != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	tm.send("quit\n")
	if err := tm.wait(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := h.mode(0); got != ModeLine {
		t.Fatalf("mode %q", got)
	}
}

package sshd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

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
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lost []string
	total := 0
	// One lane per pattern, sessions one after the other in each lane.
	for i, p := range scriptclient.Patterns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.admin()
			defer c.Close()
			r := rand.New(rand.NewPCG(uint64(i), 11))
			for n := range perCase * len(scriptclient.Terms) {
				term := scriptclient.Terms[n%len(scriptclient.Terms)]
				err := scriptclient.Run(context.Background(), c, scriptclient.Options{
					Pattern: p, Term: term, Prompt: "<dev>", Command: "screen-length disable",
					Wait: 10 * time.Second, Rand: r,
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
	if len(lost) > 0 {
		t.Fatalf("%d of %d sessions lost their command", len(lost), total)
	}
	if want := perCase * len(scriptclient.Terms) * len(scriptclient.Patterns); total != want {
		t.Fatalf("ran %d sessions, want %d", total, want)
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
	if got := fmt.Sprint(h.mode(0)); got != ModeLine {
		t.Fatalf("mode %q", got)
	}
}

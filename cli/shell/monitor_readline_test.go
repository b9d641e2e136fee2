package shell

import (
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// linkedStdin is the symbol monitor_readline.go reaches by go:linkname.
const linkedStdin = "github.com/reeflective/readline/internal/core.Stdin"

// linkBroken is the failure message when the link no longer does its job.
func linkBroken(what string) string {
	return "go:linkname " + linkedStdin + " (cli/shell/monitor_readline.go) is broken, " +
		"readline changed (see its version in go.mod): " + what + ". Live log lines in the interactive " +
		"shell would wait for the next key. Find the new input seam (or a public API to wake the key " +
		"read) and update the link."
}

// TestRealReadlineStdinLink checks the linked variable against what this
// package was compiled to expect: an io.ReadCloser that readline set to
// os.Stdin. Renamed or removed, the link quietly gives this package a
// variable of its own, nil; retyped, it holds another interface table (or
// a bare pointer): either way the comparison fails (it compares the
// interface tables first, so it reads nothing behind a wrong one). No
// interactive shell runs in this process, so nothing has replaced it.
func TestRealReadlineStdinLink(t *testing.T) {
	if readlineStdin == nil {
		t.Fatal(linkBroken("the variable is nil here (renamed or removed in readline?)"))
	}
	if readlineStdin != io.ReadCloser(os.Stdin) {
		t.Fatal(linkBroken("the variable is not an io.ReadCloser holding os.Stdin (its type or its default changed)"))
	}
}

// TestRealReadlineWakesForLogLine checks that readline reads its keys
// through the linked variable: a log line at an idle prompt, with no key
// typed, shows only if the wake-up written to the wake reader ends
// readline's read.
func TestRealReadlineWakesForLogLine(t *testing.T) {
	c := startInteractiveMode(t, "monitor")
	c.expect("<dev>")
	c.quiet(50 * time.Millisecond)
	from := len(c.plainSince(0))
	if err := c.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(c.plainSince(0)[from:], "%LOG 1\n") {
		if time.Now().After(deadline) {
			t.Fatalf("%s\noutput after the log line was queued: %q",
				linkBroken("a log line at an idle prompt never showed"), c.plainSince(0)[from:])
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.send("quit\r")
	if err := c.wait(); err != nil {
		t.Fatalf("child: %v; output:\n%q", err, c.plainSince(0))
	}
}

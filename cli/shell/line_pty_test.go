package shell

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// The line-mode shell on a real PTY in cooked mode: the kernel echoes, the
// pager reads single keys in non-canonical mode, Ctrl+Z/Ctrl+C end lines.
func TestLineOnPTY(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 10, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}

	f := &fakeEngine{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunLine(ctx, f, tty, tty, LineOptions{}) }()

	p := newPTYPeer(t, master, nil, 10, 80)
	p.expect("<dev>")
	p.send("display big\n")
	p.expect("line 9\n  ---- More ----")
	p.send(" ") // Space, no Enter: the next page
	p.expect("line 18\n  ---- More ----")
	p.send("\r") // Enter: one more line
	p.expect("line 19\n  ---- More ----")
	p.send("q")
	p.expect("<dev>")
	if got := string(f.keys); got != " \nq" {
		t.Errorf("pager keys %q, want %q", got, " \nq")
	}
	// Nothing echoed after the pager prompts: the fake erases at once.
	if raw := string(p.rawOutput()); strings.Count(raw, "  ---- More ----\r") != 3 {
		t.Errorf("pager keys were echoed: %q", raw)
	}

	p.send("system-view\n")
	p.expect("[dev]")
	p.send("\x1a") // Ctrl+Z alone ends the line and runs `return`
	p.expect("EXEC[return]\n<dev>")
	p.send("abc\x03") // Ctrl+C drops the line
	p.expect("<dev>")
	p.send("dis ?\n")
	p.expect("dis ?\nHELP[dis ]\n  version  Version\n<dev>dis ")
	p.send("version\n")
	p.expect("EXEC[dis version]\nFake 1.0\n<dev>")
	p.send("ask\n")
	p.expect("Are you sure? [Y/N]:")
	p.send("y\n")
	p.expect("ANSWER[y] err=<nil>\n<dev>")
	p.send("quit\n")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunLine: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not end after quit")
	}
	want := []string{"display big", "system-view", "return", "dis version", "ask", "quit"}
	if got := f.Lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("executed %q, want %q", got, want)
	}
	if raw := p.rawOutput(); bytes.IndexByte(raw, 0x1b) >= 0 {
		t.Errorf("escape sequence in line-mode output: %q", raw)
	}
	after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Cc != before.Cc || after.Lflag != before.Lflag {
		t.Errorf("terminal not restored: %v/%x -> %v/%x", before.Cc, before.Lflag, after.Cc, after.Lflag)
	}
}

// When the PTY's other side closes (the SSH session ended), reads fail
// with EIO: the session ends without an error.
func TestLinePTYHangup(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer tty.Close()
	f := &fakeEngine{}
	done := make(chan error, 1)
	go func() { done <- RunLine(context.Background(), f, tty, tty, LineOptions{}) }()
	// No reader on the master: creack/pty leaves it in blocking mode, so
	// Close would wait for a pending Read instead of hanging up the PTY.
	time.Sleep(50 * time.Millisecond)
	master.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunLine = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not end on hangup")
	}
}

package shell

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/ttymode"
)

// The line-mode shell on a real PTY: it echoes what it reads, the pager
// reads single keys without echo, Ctrl+Z/Ctrl+C end lines.
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
	p.send("\r") // Enter: one more line (CR arrives as CR: no ICRNL)
	p.expect("line 19\n  ---- More ----")
	p.send("q")
	p.expect("<dev>")
	if got := string(f.keys); got != " \rq" {
		t.Errorf("pager keys %q, want %q", got, " \rq")
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
	p.send("secret\n")
	p.expect("Password:")
	p.send("hunter2x\x7f\n") // typed, one erased: nothing shows
	p.expect("\nSECRET[hunter2] err=<nil>\n<dev>")
	if raw := string(p.rawOutput()); !strings.Contains(raw, "Password:\r\nSECRET[hunter2]") {
		t.Errorf("the password was echoed: %q", raw)
	}
	p.send("quit\n")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunLine: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not end after quit")
	}
	want := []string{"display big", "system-view", "return", "dis version", "ask", "secret", "quit"}
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

// startLineOnPTY runs RunLine on a new PTY whose input already holds
// typeAhead, written while the terminal was in line-input mode, as the SSH
// relay replays what the client sent during its terminal probe.
func startLineOnPTY(t *testing.T, typeAhead string) (*ptyPeer, *fakeEngine, chan error) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	if _, err := ttymode.SetLineInput(int(tty.Fd())); err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte(typeAhead)); err != nil {
		t.Fatal(err)
	}
	f := &fakeEngine{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- RunLine(ctx, f, tty, tty, LineOptions{}) }()
	return newPTYPeer(t, master, nil, 24, 80), f, done
}

// Input that arrived before the shell read it is echoed when the shell
// reads it: after the prompt it answers, never ahead of it. (Kernel echo
// happened on arrival: "\r\n<dev><dev>".)
func TestLineEchoAtRead(t *testing.T) {
	p, f, done := startLineOnPTY(t, "\n")
	p.expect("<dev>\n<dev>")
	// A partial line is echoed at once (clients wait for the echo).
	p.typeAhead("screen-length disable")
	p.expect("screen-length disable")
	// Two lines at once: the second is echoed after the first one's output.
	p.typeAhead("\ndisplay version\n")
	p.expect("EXEC[screen-length disable]\n")
	p.expect("position.\n<dev>display version\nEXEC[display version]\nFake 1.0\n<dev>")
	// "\r\n" is one Enter: one prompt, not two.
	p.typeAhead("display version\r\n")
	p.expect("display version\nEXEC[display version]\nFake 1.0\n<dev>")
	p.typeAhead("quit\r\n")
	waitLineEnd(t, done)
	raw := string(p.rawOutput())
	if !strings.HasPrefix(raw, "<dev>\r\n<dev>screen-length disable\r\n") {
		t.Errorf("echo not where the shell read it: %q", raw)
	}
	if strings.Contains(raw, "<dev>\r\n<dev>\r\n") {
		t.Errorf("\"\\r\\n\" read as two lines: %q", raw)
	}
	want := []string{"screen-length disable", "display version", "display version", "quit"}
	if got := f.Lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("executed %q, want %q", got, want)
	}
}

// The shell's own editing: erase keys, escape sequences dropped, Ctrl+D.
func TestLineEditing(t *testing.T) {
	p, f, done := startLineOnPTY(t, "")
	p.expect("<dev>")
	p.typeAhead("dix\x7fsplay verx\bsion\n") // DEL and BS erase one character
	p.expect("EXEC[display version]")
	p.typeAhead("garbage\x15display \x1b[Aversion\x1b[12;1R\n") // Ctrl+U; arrow and late report dropped
	p.expect("EXEC[display version]")
	p.typeAhead("display junk  \x17version\n") // Ctrl+W erases the word and the blanks after it
	p.expect("EXEC[display version]")
	p.typeAhead("\x1bx\n") // ESC then a byte that is no sequence: the byte stays
	p.expect("EXEC[x]")
	p.typeAhead("\x04") // Ctrl+D on an empty line: end of input
	waitLineEnd(t, done)
	want := []string{"display version", "display version", "display version", "x"}
	if got := f.Lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("executed %q, want %q", got, want)
	}
	raw := string(p.rawOutput())
	if !strings.HasPrefix(raw, "<dev>dix\b \bsplay verx\b \bsion\r\n") {
		t.Errorf("erase not shown as \\b \\b: %q", raw)
	}
	if strings.IndexByte(raw, 0x1b) >= 0 {
		t.Errorf("escape sequence echoed: %q", raw)
	}
}

func waitLineEnd(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunLine: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not end")
	}
}

package shell

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// lockedBuffer is an output the test reads while the shell writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitOutput(t *testing.T, what string, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(get(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q never appeared in\n%q", what, want, get())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Line mode on a pipe: a log line at the prompt is printed on its own line
// and the prompt follows; one that arrives while a command runs waits for
// the command's end. No escape sequence, ever.
func TestLineMonitorPipe(t *testing.T) {
	inR, inW := io.Pipe()
	out := &lockedBuffer{}
	logs := make(chan string)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunLine(ctx, &fakeEngine{}, inR, out, LineOptions{Logs: logs}) }()
	waitOutput(t, "first prompt", out.String, "<dev>")
	logs <- "%LOG 1"
	waitOutput(t, "log at the prompt", out.String, "<dev>\n%LOG 1\n<dev>")
	io.WriteString(inW, "sleep\n")
	waitOutput(t, "sleep", out.String, "EXEC[sleep]\n")
	logs <- "%LOG 2" // while sleep runs
	waitOutput(t, "log after the command", out.String, "EXEC[sleep]\n%LOG 2\n<dev>")
	io.WriteString(inW, "display version\n")
	waitOutput(t, "command", out.String, "<dev>\nEXEC[display version]\nFake 1.0\n<dev>")
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\x1b") {
		t.Errorf("escape sequence in line mode: %q", out.String())
	}
	select { // after the end: nobody reads, nothing is printed
	case logs <- "%LOG 3":
	case <-time.After(100 * time.Millisecond):
	}
	if strings.Contains(out.String(), "%LOG 3") {
		t.Errorf("printed after the session ended: %q", out.String())
	}
}

// Line mode on a PTY: what was typed but not entered stays in the shell's
// line across a log line, is shown again after the prompt (less what was
// erased), and is entered by Enter.
func TestLineMonitorPTYKeepsTypedLine(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	logs := make(chan string, 1)
	f := &fakeEngine{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunLine(ctx, f, tty, tty, LineOptions{Logs: logs}) }()
	p := newPTYPeer(t, master, nil, 24, 80)
	p.expect("<dev>")
	p.send("dispx\x7f")
	p.expect("disp")
	logs <- "%Nov 23 12:00:00:000 2026 dev CFGMAN/5/CFGMAN_CFGCHANGED: saved."
	p.expect("\n%Nov 23 12:00:00:000 2026 dev CFGMAN/5/CFGMAN_CFGCHANGED: saved.\n<dev>disp")
	if raw := string(p.rawOutput()); !strings.HasSuffix(raw, "saved.\r\n<dev>disp") {
		t.Errorf("the typed text is not redrawn as it stands: %q", raw)
	}
	p.send("lay version\n")
	p.expect("EXEC[display version]\nFake 1.0\n<dev>")
	p.send("quit\n")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not end")
	}
	if raw := string(p.rawOutput()); strings.Contains(raw, "\x1b") {
		t.Errorf("escape sequence in line mode: %q", raw)
	}
}

// monitorChildLogs is the child's log source in "monitor" mode: each
// SIGUSR2 produces one line.
func monitorChildLogs() <-chan string {
	usr2 := make(chan os.Signal, 8)
	signal.Notify(usr2, syscall.SIGUSR2)
	logs := make(chan string, 8)
	go func() {
		n := 0
		for range usr2 {
			n++
			logs <- fmt.Sprintf("%%LOG %d", n)
		}
	}()
	return logs
}

// Interactive: a log line at the prompt is printed above it and the prompt
// and the half-typed line come back; one during a command waits for its end.
func TestInteractiveMonitor(t *testing.T) {
	c := startInteractiveMode(t, "monitor")
	c.expect("<dev>")
	c.send("disp")
	c.expect("disp")
	c.quiet(50 * time.Millisecond)
	if err := c.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	c.expect("%LOG 1\n")
	c.expect("disp")
	c.quiet(50 * time.Millisecond)
	c.send("lay version\r")
	c.expect("EXEC[display version]\nFake 1.0\n")
	c.expect("<dev>")
	c.quiet(50 * time.Millisecond)

	c.send("sleep\r")
	c.expect("EXEC[sleep]\n")
	c.cmd.Process.Signal(syscall.SIGUSR2)
	c.expect("%LOG 2\n<dev>")
	c.quiet(50 * time.Millisecond)
	c.send("quit\r")
	if err := c.wait(); err != nil {
		t.Fatalf("child: %v; output:\n%q", err, c.plainSince(0))
	}
	if os.Getenv("SHELL_TEST_DUMP") != "" {
		os.WriteFile(os.Getenv("SHELL_TEST_DUMP"), c.rawOutput(), 0o644)
	}
	if plain := c.plainSince(0); strings.Index(plain, "%LOG 2") < strings.Index(plain, "EXEC[sleep]") {
		t.Errorf("log line cut into the command's output:\n%q", plain)
	}
}

package shell

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// interactiveChild is the test binary re-executed as the interactive
// shell's process, on a PTY whose master the test holds.
type interactiveChild struct {
	*ptyPeer
	cmd    *exec.Cmd
	exited chan error
}

func startInteractive(t *testing.T) *interactiveChild {
	t.Helper()
	return startInteractiveMode(t, "fake")
}

// startInteractiveMode starts the child with the fake engine ("fake") or
// the real grammar on an in-memory device ("grammar").
func startInteractiveMode(t *testing.T, mode string) *interactiveChild {
	t.Helper()
	if raceEnabled {
		t.Skip("readline's resize handling races under -race; the interactive tests run in non-race `go test`")
	}
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	if err := pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "TERM=xterm")
	stacks := os.Getenv("SHELL_TEST_STACKS")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &interactiveChild{cmd: cmd, exited: make(chan error, 1)}
	// The test keeps the terminal side open to watch its input queue.
	c.ptyPeer = newPTYPeer(t, master, tty, 24, 80)
	go func() { c.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() && stacks != "" {
			_ = cmd.Process.Signal(syscall.SIGUSR1)
			time.Sleep(300 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		select {
		case <-c.exited:
		case <-time.After(5 * time.Second):
		}
		master.Close()
		tty.Close()
	})
	return c
}

// wait for the child to end, at most 5 s.
func (c *interactiveChild) wait() error {
	c.t.Helper()
	select {
	case err := <-c.exited:
		c.exited <- err
		return err
	case <-time.After(5 * time.Second):
		c.t.Fatalf("child did not exit; output:\n%q", c.plainSince(0))
		return nil
	}
}

func TestInteractiveSession(t *testing.T) {
	c := startInteractive(t)
	c.expect("<dev>")

	// Ctrl+C drops the line.
	c.send("abc\x03")
	c.expect("^C\n<dev>")

	// Tab with several candidates puts the first in the line; each Tab
	// after it puts the next in its place, as on the device: no list
	// under the line. Ctrl+U clears the line.
	mark := c.mark()
	c.send("\t")
	c.expect("display ")
	c.send("\t")
	c.expect("quit ")
	c.send("\t")
	c.expect("return ")
	if out := c.plainSince(mark); strings.Contains(out, "system-view") || strings.Contains(out, "display  quit") {
		t.Errorf("Tab listed the candidates: %q", out)
	}
	c.send("\x15")

	// The raw line reaches the grammar as typed: double spaces, quotes.
	c.send("display  x \"a  b\r")
	c.expect("EXEC[display  x \"a  b]\n")
	c.expect("<dev>")
	c.send("display   version  \r") // parses as shell words, still run raw
	c.expect("EXEC[display   version  ]\nFake 1.0\n")
	c.expect("<dev>")

	// `?` shows the help for the line so far and gives the line back
	// without the `?`.
	c.send("dis")
	c.expect("dis")
	c.send("?")
	c.expect("?\nHELP[dis]\n  version  Version\n<dev>")
	c.send("play version\r")
	c.expect("EXEC[display version]\nFake 1.0\n")

	// Tab completes a unique keyword.
	c.send("system-view\r")
	c.expect("[dev]")
	c.send("disp")
	c.send("\t")
	c.expect("display")
	c.send("big\r")
	c.expect("EXEC[display big]")
	c.expect("line 23\n  ---- More ----")
	c.send(" ")
	c.expect("line 46\n  ---- More ----")
	c.send("q")
	c.expect("[dev]")

	// Ctrl+Z runs `return`.
	c.send("\x1a")
	c.expect("EXEC[return]\n")
	c.expect("<dev>")

	// History: up arrow brings the last line back.
	c.send("\x1b[A")
	c.send("\r")
	c.expect("EXEC[return]\n")

	// A dialogue answer is read in its own raw mode.
	c.send("ask\r")
	c.expect("Are you sure? [Y/N]:")
	c.send("yx\x7f\r")
	c.expect("ANSWER[y] err=<nil>\n")

	// Keys typed while a command runs are not echoed into its output and
	// are not lost: they come back at the next prompt. The peer holds them
	// apart from its cursor reports, as the relay in front of every shell
	// does (internal/termrelay): readline drops keys that share a read()
	// with a report.
	c.send("sleep\r")
	c.typeAhead("display ver")
	c.expect("EXEC[sleep]\n<dev>")
	c.expect("display ver")
	c.send("sion\r")
	c.expect("EXEC[display version]\nFake 1.0\n")

	c.send("quit\r")
	defer func() {
		if os.Getenv("SHELL_TEST_DUMP") != "" {
			os.WriteFile(os.Getenv("SHELL_TEST_DUMP"), c.rawOutput(), 0o644)
		}
	}()
	if err := c.wait(); err != nil {
		t.Fatalf("child: %v; output:\n%q", err, c.plainSince(0))
	}
	c.expect("CHILD-DONE")

	want := []string{"display  x \"a  b", "display   version  ", "display version", "system-view", "display big", "return", "return", "ask", "sleep", "display version", "quit"}
	lines := strings.Split(c.plainSince(0), "\n")
	var got []string
	for _, l := range lines {
		if i := strings.Index(l, "EXEC["); i >= 0 {
			got = append(got, strings.TrimSuffix(l[i+5:], "]"))
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("executed %q, want %q", got, want)
	}
}

func TestInteractiveCtrlD(t *testing.T) {
	c := startInteractive(t)
	c.expect("<dev>")
	c.send("\x04")
	if err := c.wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	c.expect("CHILD-DONE")
}

func TestInteractiveSIGHUP(t *testing.T) {
	c := startInteractive(t)
	c.expect("<dev>")
	c.send("display version\r")
	c.expect("Fake 1.0\n")
	c.expect("<dev>")
	c.quiet(50 * time.Millisecond)
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	err := c.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("want the child killed by SIGHUP, got %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGHUP {
		t.Errorf("child ended with %v, want SIGHUP", err)
	}
}

// With the signals turned into ctx cancellation (as `netdevd shell` does),
// SIGTERM ends the session even after a command (when the console library
// keeps signal.Notify for it) and the terminal is given back.
func TestInteractiveContextCancel(t *testing.T) {
	c := startInteractiveMode(t, "notify")
	c.expect("<dev>")
	c.send("display version\r")
	c.expect("Fake 1.0\n")
	c.expect("<dev>")
	c.quiet(50 * time.Millisecond)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := c.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child ended with %v, want exit 3 (RunInteractive returned context.Canceled)", err)
	}
	c.expect("CHILD-CANCELED")
	tio, err := unix.IoctlGetTermios(int(c.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ICANON|unix.ECHO) != unix.ICANON|unix.ECHO {
		t.Errorf("terminal left without ICANON/ECHO: lflag %#x", tio.Lflag)
	}
}

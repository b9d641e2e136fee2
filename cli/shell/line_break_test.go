package shell

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The line-mode shell as its own process on a PTY that is its controlling
// terminal (as under the SSH relay): Ctrl+C while a command runs breaks
// the command, not the session; at the prompt and at a question it is a
// key, as before.
func TestLineCtrlCBreaksCommand(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pty: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=line", "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("the child was never reaped")
		}
	}()
	p := newPTYPeer(t, master, nil, 24, 80)

	p.expect("<dev>")
	p.send("wait\n")
	p.expect("WAITING\n")
	if err := p.write("\x03"); err != nil {
		t.Fatal(err)
	}
	p.expect("BROKEN\n<dev>")
	// Twice: the second Ctrl+C is not a late one of the first.
	p.send("wait\n")
	p.expect("WAITING\n")
	if err := p.write("\x03"); err != nil {
		t.Fatal(err)
	}
	p.expect("BROKEN\n<dev>")
	p.send("abc\x03") // at the prompt: drops the line
	p.expect("<dev>")
	p.send("ask\n")
	p.expect("Are you sure? [Y/N]:")
	p.send("\x03") // at a question: cancels it
	p.expect("ANSWER[] err=interrupted")
	p.expect("<dev>")
	p.send("display version\n")
	p.expect("Fake 1.0\n<dev>")
	p.send("quit\n")
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("child: %v; output:\n%q", err, p.plainSince(0))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("child did not exit; output:\n%q", p.plainSince(0))
	}
	p.expect("CHILD-DONE")
}

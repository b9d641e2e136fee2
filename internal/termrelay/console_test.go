package termrelay

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// The test binary doubles as the console's shell child (childEnv names
// its mode): a line editor that, like readline, asks for the cursor
// position before it handles each key and loses whatever else came in the
// read() that brought the answer.
const childEnv = "TERMRELAY_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "exit3":
		os.Exit(3)
	default:
		fakeEditor(os.Getenv(childEnv))
		os.Exit(0)
	}
}

// fakeEditor prints MODE[mode], then GOT[line] for each line; in readline
// mode it queries the cursor before each key.
func fakeEditor(mode string) {
	fd := int(os.Stdin.Fd())
	if _, err := term.MakeRaw(fd); err != nil {
		os.Exit(2)
	}
	fmt.Printf("MODE[%s]\r\n", mode)
	var keys, line []byte
	read := func() {
		buf := make([]byte, 256)
		n, err := os.Stdin.Read(buf)
		if err != nil {
			os.Exit(0)
		}
		keys = append(keys, buf[:n]...)
	}
	query := func() {
		os.Stdout.WriteString("\x1b[6n")
		for {
			before := len(keys)
			read()
			if _, _, _, ok := FindCPR(keys[before:]); ok {
				keys = keys[:before] // the rest of this read is lost, as in readline
				return
			}
		}
	}
	for {
		if mode == ModeReadline {
			query()
		}
		for len(keys) == 0 {
			read()
		}
		k := keys[0]
		keys = keys[1:]
		switch k {
		case '\r':
			fmt.Printf("\r\nGOT[%s]\r\n", line)
			line = line[:0]
		case 4:
			return
		default:
			line = append(line, k)
			os.Stdout.Write([]byte{k})
		}
	}
}

// terminal is the test's terminal emulator on the outer PTY's master.
type terminal struct {
	t      *testing.T
	master *os.File
	answer bool // answer cursor queries (a terminal emulator) or not (a script)

	mu      sync.Mutex
	out     bytes.Buffer
	queries int
}

func (tm *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := tm.master.Read(buf)
		tm.mu.Lock()
		tm.out.Write(buf[:n])
		q := bytes.Count(buf[:n], []byte("\x1b[6n"))
		tm.queries += q
		tm.mu.Unlock()
		if tm.answer && q > 0 {
			tm.master.Write([]byte("\x1b[3;1R"))
		}
		if err != nil {
			return
		}
	}
}

func (tm *terminal) waitFor(s string) string {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tm.mu.Lock()
		out := tm.out.String()
		tm.mu.Unlock()
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("never saw %q; output:\n%q", s, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startConsole runs RunConsole on a new PTY's terminal side, the test's
// terminal on its master; the child is this binary in childMode ("" = the
// fake editor in the mode the relay chose).
func startConsole(t *testing.T, answer bool, childMode string) (*terminal, context.CancelFunc, chan int) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 80})
	before, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	tm := &terminal{t: t, master: master, answer: answer}
	go tm.read()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, err := RunConsole(ctx, ConsoleOptions{In: tty, Out: tty, Grace: time.Second, Command: func(mode string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			m := childMode
			if m == "" {
				m = mode
			}
			cmd.Env = append(os.Environ(), childEnv+"="+m)
			return cmd
		}})
		if err != nil && ctx.Err() == nil {
			t.Errorf("RunConsole: %v", err)
		}
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("RunConsole did not return")
		}
		// The terminal is as it was before.
		if after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err != nil || *after != *before {
			t.Errorf("terminal not restored")
		}
		tty.Close()
		master.Close()
	})
	return tm, cancel, done
}

// TestConsoleLosesNoKeys: a terminal that answers at once, and 200 lines
// typed back to back, each line's text and Enter in one write, the whole
// burst without waiting: every line reaches the child, in order. Without
// the relay holding input while an answer is on its way, keys travel in
// the same read() as answers and the editor drops them.
func TestConsoleLosesNoKeys(t *testing.T) {
	tm, _, _ := startConsole(t, true, "")
	tm.waitFor("MODE[readline]")
	const n = 200
	for i := 0; i < n; i++ {
		if _, err := tm.master.Write([]byte(fmt.Sprintf("line %d\r", i))); err != nil {
			t.Fatal(err)
		}
	}
	out := tm.waitFor(fmt.Sprintf("GOT[line %d]", n-1))
	var got []string
	for _, l := range strings.Split(out, "\r\n") {
		if strings.HasPrefix(l, "GOT[") {
			got = append(got, l)
		}
	}
	if len(got) != n {
		t.Fatalf("%d of %d lines arrived", len(got), n)
	}
	for i, l := range got {
		if l != fmt.Sprintf("GOT[line %d]", i) {
			t.Fatalf("line %d arrived as %q", i, l)
		}
	}
	// Only the probe reached the terminal; the child's queries did not.
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.queries != 1 {
		t.Errorf("the terminal saw %d cursor queries, want the probe only", tm.queries)
	}
}

// TestConsoleLineMode: a terminal that does not answer gets line mode;
// an answer to the probe that comes late never reaches the child.
func TestConsoleLineMode(t *testing.T) {
	tm, _, _ := startConsole(t, false, "")
	tm.waitFor("MODE[line]")
	tm.master.Write([]byte("\x1b[5;1Rab\r"))
	out := tm.waitFor("GOT[")
	if !strings.Contains(out, "GOT[ab]") {
		t.Errorf("late report reached the child: %q", out)
	}
}

// TestConsoleExitAndHangUp: the child's exit status comes back; ending the
// context hangs the child up and returns.
func TestConsoleExitAndHangUp(t *testing.T) {
	_, _, done := startConsole(t, true, "exit3")
	select {
	case code := <-done:
		if code != 3 {
			t.Errorf("exit status %d, want 3", code)
		}
		done <- code // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("RunConsole did not return after the child exited")
	}
	tm, cancel, done := startConsole(t, true, "")
	tm.waitFor("MODE[readline]")
	cancel()
	select {
	case code := <-done:
		done <- code
	case <-time.After(10 * time.Second):
		t.Fatal("RunConsole did not return after cancel")
	}
}

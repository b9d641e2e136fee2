package shell

// Live log lines in the interactive shell. readline is not safe to drive
// from two goroutines, and while it waits for a key it sits in a blocking
// read of standard input. So a log line is queued and the read is woken
// with a private key, keyLogs, bound to the netdevd-logs command: readline
// then runs that command on its own goroutine, which prints the queued
// lines with Shell.PrintTransientf (above the prompt; the prompt and the
// line being typed are redrawn below, cursor where it was).
//
// To wake the read, readline's input reader (the package variable
// internal/core.Stdin, documented as replaceable, but internal) is
// replaced by wakeReader: a poll of standard input and of a pipe the log
// side writes one byte to. Input always wins; a wake-up alone reads as
// keyLogs. Everything else (termios, cursor queries, type-ahead) still
// uses the real standard input.

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// readlineStdin is readline's key input, reached by go:linkname because
// readline (v1.1.3) has no public way to wake a read in progress: its key
// loop blocks in core.Stdin.Read (core.WaitAvailableKeys), Shell.Keys.Feed
// only queues keys for after that read returns, and Readline puts
// os.Stdin's own descriptor in raw mode, so standard input cannot be
// swapped for a pipe either. core.Stdin, documented as replaceable, is the
// one seam, but behind an internal path: a rename, a new type, or a key
// loop that stops reading it would break live log lines silently (they
// would wait for the next key). TestRealReadlineStdinLink and
// TestRealReadlineWakesForLogLine (monitor_readline_test.go) fail then,
// naming this symbol; on a readline upgrade, look for a public API first.
//
//go:linkname readlineStdin github.com/reeflective/readline/internal/core.Stdin
var readlineStdin io.ReadCloser

// keyLogs is the key the wake-up reads as (Ctrl+\, unused by the shell;
// typed by hand it just shows any queued lines).
const keyLogs = 0x1c

// wakeReader is readline's input: standard input, or keyLogs when woken.
// The pipe's descriptors are raw (not *os.File, whose Fd() would make them
// blocking again) and non-blocking: a full pipe already holds a wake-up.
type wakeReader struct {
	fd           int
	wakeR, wakeW int
}

func newWakeReader(fd int) (*wakeReader, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	return &wakeReader{fd: fd, wakeR: p[0], wakeW: p[1]}, nil
}

// wake makes the next (or current) Read return keyLogs.
func (w *wakeReader) wake() {
	var b = [1]byte{1}
	unix.Write(w.wakeW, b[:])
}

// drain forgets pending wake-ups (the queue was flushed another way).
func (w *wakeReader) drain() {
	var buf [64]byte
	for {
		n, err := unix.Read(w.wakeR, buf[:])
		if n <= 0 || err != nil {
			return
		}
	}
}

func (w *wakeReader) Read(p []byte) (int, error) {
	for {
		fds := []unix.PollFd{
			{Fd: int32(w.fd), Events: unix.POLLIN},
			{Fd: int32(w.wakeR), Events: unix.POLLIN},
		}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return os.Stdin.Read(p)
		}
		if fds[0].Revents != 0 { // input, hang-up or error: the real read tells
			return os.Stdin.Read(p)
		}
		if fds[1].Revents&unix.POLLIN != 0 && len(p) > 0 {
			w.drain()
			p[0] = keyLogs
			return 1, nil
		}
	}
}

func (w *wakeReader) Close() error { return nil }

// interactiveLogs is the interactive shell's log state.
type interactiveLogs struct {
	mu    sync.Mutex
	queue logQueue
	wr    *wakeReader // nil: no wake-ups, lines wait for the next prompt or key
}

// install puts the wake reader under readline; the returned function puts
// the original back.
func (l *interactiveLogs) install(fd int) func() {
	wr, err := newWakeReader(fd)
	if err != nil || readlineStdin == nil {
		return func() {}
	}
	prev := readlineStdin
	readlineStdin = wr
	l.wr = wr
	return func() { readlineStdin = prev }
}

// notify queues a line and wakes readline.
func (l *interactiveLogs) notify(line string) {
	l.mu.Lock()
	l.queue.push(line)
	l.mu.Unlock()
	if l.wr != nil {
		l.wr.wake()
	}
}

func (l *interactiveLogs) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queue.take()
}

// showLogs is the netdevd-logs command, run by readline at the prompt.
func (s *interactive) showLogs() {
	lines := s.logs.take()
	if len(lines) == 0 {
		return
	}
	s.rl.PrintTransientf("%s", strings.Join(lines, "\n"))
}

// flushLogs prints the lines queued while a command ran, before the prompt
// (beforeRead; the terminal is not in readline's hands then).
func (s *interactive) flushLogs() {
	if s.logs.wr != nil {
		s.logs.wr.drain()
	}
	for _, l := range s.logs.take() {
		s.term.out.WriteString(l + "\n")
	}
}

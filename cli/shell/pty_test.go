package shell

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ptyPeer plays the terminal emulator on a PTY master: it records the
// output, keeps a small model of the cursor (CR, LF, BS, printable, CSI
// A/B/C/D/G/H) and answers cursor position queries (ESC[6n) from it, as the
// SSH relay does.
type ptyPeer struct {
	t      *testing.T
	master *os.File
	// slave, when set, is the PTY's terminal side: its input queue tells
	// whether the child has taken what was written. readline drops keys
	// that arrive in the same read() as a cursor report, so a key is only
	// written when the queue is empty and no report is pending, and a
	// report only when the queue is empty (as the SSH relay does).
	slave *os.File
	wmu   sync.Mutex // serialises writes of keys and reports

	mu      sync.Mutex
	raw     bytes.Buffer // everything read, escapes included
	plain   bytes.Buffer // escapes and CRs removed
	pos     int          // expect() searches plain from here
	last    time.Time    // when output last arrived
	queries int          // ESC[6n seen
	closed  bool

	// terminal model (0-based)
	row, col   int
	rows, cols int
	esc        []byte // an escape sequence being read
}

func newPTYPeer(t *testing.T, master, slave *os.File, rows, cols int) *ptyPeer {
	p := &ptyPeer{t: t, master: master, slave: slave, rows: rows, cols: cols, last: time.Now()}
	go p.readLoop()
	return p
}

func (p *ptyPeer) readLoop() {
	buf := make([]byte, 4096)
	for {
		n, err := p.master.Read(buf)
		if n > 0 {
			p.feed(buf[:n])
		}
		if err != nil {
			p.mu.Lock()
			p.closed = true
			p.mu.Unlock()
			return
		}
	}
}

func (p *ptyPeer) feed(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.raw.Write(b)
	p.last = time.Now()
	for _, c := range b {
		if p.esc != nil {
			p.esc = append(p.esc, c)
			p.escape()
			continue
		}
		switch {
		case c == 0x1b:
			p.esc = []byte{c}
		case c == '\r':
			p.col = 0
		case c == '\n':
			p.down(1)
			p.plain.WriteByte(c)
		case c == '\b':
			if p.col > 0 {
				p.col--
			}
			p.plain.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			p.plain.WriteByte(c)
		default:
			p.plain.WriteByte(c)
			if c&0xc0 != 0x80 { // not a UTF-8 continuation byte
				p.col++
				if p.col >= p.cols {
					p.col = 0
					p.down(1)
				}
			}
		}
	}
}

func (p *ptyPeer) down(n int) {
	p.row += n
	if p.row >= p.rows {
		p.row = p.rows - 1
	}
}

// escape handles p.esc once it is complete.
func (p *ptyPeer) escape() {
	e := p.esc
	if len(e) == 2 && e[1] != '[' {
		p.esc = nil // ESC x: two-byte sequence, ignored
		return
	}
	if len(e) < 3 {
		return
	}
	final := e[len(e)-1]
	if final < 0x40 || final > 0x7e {
		return // parameters still coming
	}
	p.esc = nil
	params := string(e[2 : len(e)-1])
	n := 1
	if v, err := strconv.Atoi(strings.TrimLeft(params, "?")); err == nil && v > 0 {
		n = v
	}
	switch final {
	case 'A':
		p.row = max(p.row-n, 0)
	case 'B':
		p.down(n)
	case 'C':
		p.col = min(p.col+n, p.cols-1)
	case 'D':
		p.col = max(p.col-n, 0)
	case 'G':
		p.col = min(n-1, p.cols-1)
	case 'H':
		r, c := 1, 1
		fmt.Sscanf(params, "%d;%d", &r, &c)
		p.row, p.col = max(r-1, 0), max(c-1, 0)
	case 'n':
		if params == "6" {
			p.queries++
			// Answered at once: the child waits for it, and keys are
			// held meanwhile (send takes wmu and wants 40 ms of quiet).
			reply := fmt.Sprintf("\x1b[%d;%dR", p.row+1, p.col+1)
			_ = p.write(reply)
		}
	}
}

// expect waits until s appears in the plain output after the last match.
func (p *ptyPeer) expect(s string) {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		plain := p.plain.String()
		if i := strings.Index(plain[p.pos:], s); i >= 0 {
			p.pos += i + len(s)
			p.mu.Unlock()
			return
		}
		closed := p.closed
		p.mu.Unlock()
		if closed || time.Now().After(deadline) {
			raw := p.rawOutput()
			if len(raw) > 800 {
				raw = raw[len(raw)-800:]
			}
			p.t.Fatalf("timed out waiting for %q; output since last match:\n%q\nraw tail: %q", s, plain[p.pos:], raw)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// quiet waits until no output arrived for d (so keys typed next never
// share a read with a cursor report: readline would drop them).
func (p *ptyPeer) quiet(d time.Duration) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		idle := time.Since(p.last)
		p.mu.Unlock()
		if idle >= d {
			return
		}
		time.Sleep(d / 4)
	}
}

// send types s one key at a time (an escape sequence is one key): each key
// is written when the child is idle, and the next one only after the
// child's redraw for it has ended (readline ends each redraw by showing
// the cursor, ESC[?25h) or output has stopped for 150 ms. Keys typed while
// readline is between a cursor query and its answer can be lost (see
// engineering-notes.md); the SSH relay holds input then, the test types
// like a person.
func (p *ptyPeer) send(s string) {
	p.t.Helper()
	if p.slave == nil { // line mode: no redraws, no cursor queries
		p.quiet(40 * time.Millisecond)
		if err := p.write(s); err != nil {
			p.t.Fatalf("write to pty: %v", err)
		}
		return
	}
	for len(s) > 0 {
		n := 1
		if s[0] == 0x1b && len(s) >= 3 && (s[1] == '[' || s[1] == 'O') {
			n = 3
		}
		p.sendKey(s[:n])
		s = s[n:]
	}
}

func (p *ptyPeer) sendKey(key string) {
	p.t.Helper()
	const idle = 40 * time.Millisecond
	p.quiet(idle)
	p.mu.Lock()
	from := p.raw.Len()
	p.mu.Unlock()
	if err := p.write(key); err != nil {
		p.t.Fatalf("write to pty: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		redrawn := bytes.Contains(p.raw.Bytes()[from:], []byte("\x1b[?25h"))
		quiet := time.Since(p.last) >= 150*time.Millisecond
		p.mu.Unlock()
		if redrawn || quiet {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// typeAhead writes s at once, whatever the child is doing.
func (p *ptyPeer) typeAhead(s string) {
	p.t.Helper()
	if err := p.write(s); err != nil {
		p.t.Fatalf("write to pty: %v", err)
	}
}

// write writes s once the child has read everything written before.
func (p *ptyPeer) write(s string) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.drained()
	_, err := p.master.Write([]byte(s))
	p.drained()
	return err
}

// drained waits (at most 5 s) until the child has read its input queue.
// poll(2) on the slave, not TIOCINQ: bytes written to the master reach
// the line discipline through a kernel worker, so TIOCINQ can read 0 for
// bytes still on their way (a report and the next key then arrived in one
// read under load); n_tty's poll flushes them first (as
// internal/termrelay does).
func (p *ptyPeer) drained() {
	if p.slave == nil {
		return
	}
	fds := []unix.PollFd{{Fd: int32(p.slave.Fd()), Events: unix.POLLIN}}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		fds[0].Revents = 0
		n, err := unix.Poll(fds, 0)
		if err == nil && (n == 0 || fds[0].Revents&unix.POLLIN == 0) {
			return
		}
		if err != nil && err != unix.EINTR {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *ptyPeer) rawOutput() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.raw.Bytes()...)
}

// mark is where the plain output ends now (for plainSince).
func (p *ptyPeer) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plain.Len()
}

func (p *ptyPeer) plainSince(mark int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plain.String()[mark:]
}

// Package termrelay puts a shell child on its own pseudo-terminal and
// relays bytes between it and a user's terminal: the SSH channel of a VTY
// session (sshd) or the console's own terminal (`netdevd shell`).
//
// readline asks the terminal for the cursor position (ESC[6n) on every
// redraw, and drops the user's keys that reach it in the same read() as
// the answer. A terminal emulator answers at once, so keys typed quickly
// (a line and its Enter) often travel with the answer and are lost. The
// relay never forwards the queries: it answers them itself from a model of
// what it sent to the terminal (CursorModel), and it never delivers user
// input together with an answer (Relay.answer holds input from the query
// until the child has read the answer).
package termrelay

import (
	"io"
	"sync"
	"time"

	"github.com/netdevd/netdevd/internal/clock"
)

// Relay timings.
const (
	// ProbeTimeout is how long a terminal probe waits for the answer.
	ProbeTimeout = 500 * time.Millisecond
	// probeExtra is more time when a report is half there at the deadline.
	probeExtra = 200 * time.Millisecond
	// drainBeforeWait: before an answer, the child takes the input already sent.
	drainBeforeWait = 100 * time.Millisecond
	// reportTakenWait: after an answer, input is held until the child has read it.
	reportTakenWait = 500 * time.Millisecond
	pollEvery       = 200 * time.Microsecond
	inputChunk      = 256
)

// Relay is the byte path between a user's terminal and a child on PTY.
// Out is the user's terminal. With Cursor set (readline mode) the child's
// cursor queries are answered from the model, never forwarded; without it
// (line mode) output is forwarded as is.
type Relay struct {
	PTY    *PTY
	Out    io.Writer
	Cursor *CursorModel
	Clock  clock.Clock

	cursorMu sync.Mutex
	// inMu is held while user input is written to the child and while a
	// cursor report is delivered: user bytes never reach the child in the
	// same read() as a report.
	inMu sync.Mutex
}

// CopyOutput forwards the child's output (read from src: the PTY master,
// or a pipe) to Out until src fails or Out does; in readline mode it
// answers cursor queries on the way.
func (r *Relay) CopyOutput(src io.Reader) {
	write := func(b []byte) error {
		_, err := r.Out.Write(b)
		return err
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			var werr error
			if r.Cursor != nil {
				r.cursorMu.Lock()
				werr = r.Cursor.Feed(buf[:n], write, r.answer)
				r.cursorMu.Unlock()
			} else {
				werr = write(buf[:n])
			}
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// answer delivers a cursor report to the child. Called with cursorMu held,
// at the point of the output stream where the query was.
//
// User input is held (inMu) from the moment the query is seen until the
// child has read the report: first the child takes the input already
// delivered (the slave stops polling readable), then the report is written,
// then input stays held until the slave stops polling readable again, i.e.
// the child has read the report. poll on the slave flushes the kernel's
// flip buffer first, so "not readable" means "read by the child", never
// "not arrived yet". Each wait is bounded (a child that stops reading costs
// at most drainBeforeWait + reportTakenWait, then input flows again).
func (r *Relay) answer() error {
	r.inMu.Lock()
	defer r.inMu.Unlock()
	r.waitInputTaken(drainBeforeWait)
	if _, err := r.PTY.Master.Write(r.Cursor.Report()); err != nil {
		return nil // the child is gone; the session ends elsewhere
	}
	r.waitInputTaken(reportTakenWait)
	return nil
}

// waitInputTaken waits until the child has read all its pending input.
func (r *Relay) waitInputTaken(max time.Duration) {
	deadline := r.Clock.Now().Add(max)
	for {
		pending, err := r.PTY.InputPending()
		if err != nil || !pending || r.Clock.Now().After(deadline) {
			return
		}
		r.pause(pollEvery)
	}
}

func (r *Relay) pause(d time.Duration) {
	t := r.Clock.NewTimer(d)
	<-t.C()
}

// Deliver writes user input to the child (w: the PTY master, or a pipe),
// in small pieces, never while a cursor report is being delivered.
func (r *Relay) Deliver(w io.Writer, b []byte) error {
	for len(b) > 0 {
		n := min(len(b), inputChunk)
		r.inMu.Lock()
		_, err := w.Write(b[:n])
		r.inMu.Unlock()
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// WaitRaw waits at most max until the child (readline) has put its
// terminal in raw mode, so that type-ahead is not echoed and mangled as a
// cooked line by the kernel; false when done closed first.
func (r *Relay) WaitRaw(max time.Duration, done <-chan struct{}) bool {
	deadline := r.Clock.Now().Add(max)
	for r.Clock.Now().Before(deadline) {
		canon, err := r.PTY.Canonical()
		if err != nil || !canon {
			return true
		}
		t := r.Clock.NewTimer(2 * time.Millisecond)
		select {
		case <-done:
			t.Stop()
			return false
		case <-t.C():
		}
	}
	return true
}

// Resize follows the user's window: the PTY and the cursor model.
func (r *Relay) Resize(cols, rows int) {
	r.PTY.SetSize(cols, rows)
	if r.Cursor != nil {
		r.cursorMu.Lock()
		r.Cursor.Resize(cols, rows)
		r.cursorMu.Unlock()
	}
}

// ProbeResult is what a terminal probe learnt.
type ProbeResult struct {
	Terminal bool   // a cursor report came: a terminal emulator is there
	Row, Col int    // 1-based cursor position it reported
	Pending  []byte // what the user typed meanwhile (type-ahead), report removed
	EOF      bool   // input ended during the probe
	Stopped  bool   // stop closed
}

// Probe sends one cursor position query to out and waits for the answer
// on in (the user's input, in the pieces it was read) at most timeout, a
// little longer when a report is half there at the deadline. Whatever else
// arrives meanwhile is kept in Pending.
func Probe(out io.Writer, in <-chan []byte, clk clock.Clock, timeout time.Duration, stop <-chan struct{}) ProbeResult {
	var res ProbeResult
	if _, err := io.WriteString(out, "\x1b[6n"); err != nil {
		res.Stopped = true
		return res
	}
	t := clk.NewTimer(timeout)
	defer t.Stop()
	extended := false
	for {
		select {
		case b, open := <-in:
			if !open {
				res.EOF = true
				return res
			}
			res.Pending = append(res.Pending, b...)
			if row, col, rest, found := FindCPR(res.Pending); found {
				res.Terminal, res.Row, res.Col, res.Pending = true, row, col, rest
				return res
			}
		case <-t.C():
			if !extended && PartialCPR(res.Pending) {
				extended = true
				t.Reset(probeExtra)
				continue
			}
			return res
		case <-stop:
			res.Stopped = true
			return res
		}
	}
}

package cloudmgmt

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// ExecQueueLen is how many exec requests of one main connection may wait
// behind the one running (spec §3: "at most a small fixed number wait in a
// queue"). While that many wait, the connection's reader reads nothing.
const ExecQueueLen = 4

// DefaultExecTimeout bounds each exec (spec §3: 60 s).
const DefaultExecTimeout = 60 * time.Second

// execQueue runs one main connection's execs one at a time, in arrival
// order, and holds the connection's reader back while ExecQueueLen wait:
// a controller that floods execs is then slowed by TCP (its writes block)
// instead of being buffered here. The runner goroutine exists only while
// execs are queued or running, so an idle connection costs nothing more;
// it runs them at nice +10 (exec_linux.go): remote execs are background
// work next to the CLI of SSH sessions.
//
// Holding the reader back also holds back the frames behind the flood,
// keepalive-acks and Pongs among them (gorilla/websocket handles control
// frames only inside a read). Intervals in which that happened are not
// counted against the controller by the dead-peer rules (missed); how
// long the reader can be held is bounded: each exec ends within its time
// limit, so the queue drains in at most (ExecQueueLen+1) × limit.
type execQueue struct {
	c     *Client
	w     *wsConn
	ctx   context.Context // the connection's: cancelled when it ends
	wg    *sync.WaitGroup // the connection's goroutines, joined when it ends
	limit time.Duration

	mu      sync.Mutex
	waiting []wire.Frame // FIFO; the reader, the only producer, keeps it ≤ ExecQueueLen
	running bool         // a runner goroutine owns the queue
	room    chan struct{}

	// stalls counts the reader's waits for room, twice: +1 when one
	// starts, +1 when it ends; odd = the reader is held back now.
	stalls atomic.Uint64
	taken  atomic.Uint64 // execs read off the connection (tests)
}

func (c *Client) newExecQueue(ctx context.Context, w *wsConn, wg *sync.WaitGroup) *execQueue {
	q := &execQueue{c: c, w: w, ctx: ctx, wg: wg, limit: c.o.ExecTimeout, room: make(chan struct{}, 1)}
	c.execQ.Store(q)
	context.AfterFunc(ctx, func() { c.execQ.CompareAndSwap(q, nil) })
	return q
}

// reserve returns once one more exec could wait in the queue, false when
// the connection ended first. Only the reader calls it, before each read,
// so "read the next frame only when there is room" holds exactly.
func (q *execQueue) reserve() bool {
	if q == nil {
		return true
	}
	held := false
	defer func() {
		if held {
			q.stalls.Add(1)
		}
	}()
	for {
		q.mu.Lock()
		full := len(q.waiting) >= ExecQueueLen
		q.mu.Unlock()
		if !full {
			return true
		}
		if !held {
			held = true
			q.stalls.Add(1)
		}
		select {
		case <-q.room:
		case <-q.ctx.Done():
			return false
		}
	}
}

// push queues an exec read after reserve, starting the runner if none runs.
func (q *execQueue) push(fr wire.Frame) {
	q.taken.Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiting = append(q.waiting, fr)
	if !q.running {
		q.running = true
		q.wg.Add(1) // the reader is in wg too: never from zero during Wait
		go q.run()
	}
}

// run answers queued execs until the queue is empty or the connection ends.
// Remote execs are background work: the runner keeps its OS thread (which
// ends with it) at a lower CPU priority, so that the CLI of SSH sessions
// and the connection's own frames go first on a busy device.
func (q *execQueue) run() {
	defer q.wg.Done()
	runtime.LockOSThread() // never unlocked: the thread goes when this goroutine ends
	lowerThreadPriority()
	for {
		q.mu.Lock()
		if len(q.waiting) == 0 || q.ctx.Err() != nil {
			q.waiting, q.running = nil, false
			q.mu.Unlock()
			return
		}
		fr := q.waiting[0]
		q.waiting[0] = wire.Frame{}
		q.waiting = q.waiting[1:]
		q.mu.Unlock()
		select {
		case q.room <- struct{}{}:
		default: // a wake-up is pending already
		}
		out, ok := q.runOne(fr.Lines)
		if q.ctx.Err() == nil {
			q.w.write(wire.ExecResult(fr.ID, out, ok))
		}
	}
}

// runOne runs one exec under its time limit (on the injected clock): at the
// limit a watcher cancels the exec's context, and Options.Exec returns once
// its context is done. The exec is stopped, not abandoned, so the next one
// never runs beside it. (The CLI's deep stack goes with the runner, which
// ends when the queue is empty.)
func (q *execQueue) runOne(lines []string) (string, bool) {
	ctx, cancel := context.WithCancel(q.ctx)
	defer cancel()
	t := q.c.clk.NewTimer(q.limit) // armed before the exec starts (tests move the clock once it has)
	defer t.Stop()
	var limited atomic.Bool
	finished, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-t.C():
			limited.Store(true)
			cancel()
		case <-finished:
		}
	}()
	out, ok := q.c.exec(ctx, lines)
	close(finished)
	<-watched
	if limited.Load() {
		return out + timeLimitNote(q.limit), false
	}
	return out, ok
}

// timeLimitNote ends the output of an exec stopped by its time limit.
func timeLimitNote(limit time.Duration) string {
	return fmt.Sprintf("\n%% Execution stopped: the time limit of %g s was reached.\n", limit.Seconds())
}

// heldBack reports whether the reader was held back by a full queue at
// any time since the previous call with mark (which it updates).
func (q *execQueue) heldBack(mark *uint64) bool {
	n := q.stalls.Load()
	held := n != *mark || n%2 == 1
	*mark = n
	return held
}

// missed is a dead-peer counter (keepalive or ping) at an interval tick:
// reset when the peer answered, +1 when it did not although the reader was
// free to read its answer, unchanged when a full exec queue held the reader
// back (the answer may be waiting behind the flood, unread).
func (q *execQueue) missed(missed int, answered bool, mark *uint64) int {
	held := q.heldBack(mark)
	switch {
	case answered:
		return 0
	case held:
		return missed
	}
	return missed + 1
}

package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// MaxFloodCount bounds one ExecFlood.
const MaxFloodCount = 1_000_000

// FloodResult is what one ExecFlood saw.
type FloodResult struct {
	Serial   string `json:"serial"`
	Count    int    `json:"count"`    // execs asked for
	Sent     int    `json:"sent"`     // exec frames written
	Answered int    `json:"answered"` // exec-results received
	// InOrder: every answer carried the id of the next exec sent, and
	// every exec sent was answered.
	InOrder     bool    `json:"in_order"`
	OK          int     `json:"ok"` // answers with ok true
	FirstOutput string  `json:"first_output"`
	Seconds     float64 `json:"seconds"` // first write → last answer
	// Error says why the flood ended before every answer came ("" = it
	// did not).
	Error string `json:"error,omitempty"`
}

// FloodProgress is a running flood seen in the device listing.
type FloodProgress struct {
	Count    int `json:"count"`
	Answered int `json:"answered"`
}

// flood is a running ExecFlood; its fields are guarded by Server.mu.
type flood struct {
	p          *peer // the main connection it was sent on
	prefix     string
	count      int
	target     int // answers that end it: count, or the frames written when writing failed
	answered   int
	ok         int
	outOfOrder bool
	first      string
	last       time.Time
	done       chan struct{}
	ended      string
}

// answer takes one exec-result, received at now; false if id is not one of
// this flood's.
func (f *flood) answer(id, output string, ok bool, now time.Time) bool {
	rest, mine := strings.CutPrefix(id, f.prefix)
	if !mine {
		return false
	}
	if n, err := strconv.Atoi(rest); err != nil || n != f.answered {
		f.outOfOrder = true
	}
	if f.answered == 0 {
		f.first = output
	}
	f.answered++
	if ok {
		f.ok++
	}
	f.last = now
	f.check()
	return true
}

// check ends the flood once every answer it waits for came.
func (f *flood) check() {
	if f.answered >= f.target {
		f.end("")
	}
}

func (f *flood) end(why string) {
	if isClosed(f.done) {
		return
	}
	f.ended = why
	close(f.done)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// ExecFlood sends count exec frames with lines to serial's device as fast
// as its main connection takes them (TCP is the only pacing: the device's
// backpressure) and waits for every answer, checking they come in order.
// Answers are counted, not kept. One flood per device at a time.
func (s *Server) ExecFlood(ctx context.Context, serial string, lines []string, count int) (FloodResult, error) {
	if count < 1 || count > MaxFloodCount {
		return FloodResult{}, fmt.Errorf("count %d out of range 1-%d", count, MaxFloodCount)
	}
	s.mu.Lock()
	d := s.devices[serial]
	if d == nil || d.main == nil {
		s.mu.Unlock()
		return FloodResult{}, fmt.Errorf("device %s is not connected", serial)
	}
	if d.flood != nil {
		s.mu.Unlock()
		return FloodResult{}, fmt.Errorf("a flood is already running on %s", serial)
	}
	s.execSeq++
	f := &flood{p: d.main, prefix: fmt.Sprintf("flood-%d-", s.execSeq), count: count, target: count,
		done: make(chan struct{})}
	d.flood = f
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if d.flood == f {
			d.flood = nil
		}
		s.mu.Unlock()
	}()

	start := s.now()
	sent, werr := s.sendFlood(ctx, f, lines, count)
	s.mu.Lock()
	if sent < count {
		f.target = sent
		f.check()
	}
	s.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	r := FloodResult{Serial: serial, Count: count, Sent: sent, Answered: f.answered, OK: f.ok,
		FirstOutput: f.first, InOrder: !f.outOfOrder && f.answered == sent}
	if !f.last.IsZero() {
		r.Seconds = f.last.Sub(start).Seconds()
	}
	switch {
	case werr != nil:
		r.Error = "writing exec " + strconv.Itoa(sent+1) + ": " + werr.Error()
	case f.ended != "":
		r.Error = f.ended
	case f.answered < sent:
		r.Error = fmt.Sprintf("%d of %d answers missing: %v", sent-f.answered, sent, ctx.Err())
	}
	return r, nil
}

// sendFlood writes the frames; it stops early when ctx ends, a write fails
// or the flood ended (connection closed).
func (s *Server) sendFlood(ctx context.Context, f *flood, lines []string, count int) (int, error) {
	for i := 0; i < count; i++ {
		if ctx.Err() != nil {
			return i, nil
		}
		if isClosed(f.done) {
			return i, nil
		}
		id, _ := json.Marshal(f.prefix + strconv.Itoa(i))
		if err := f.p.write(websocket.TextMessage, wire.Exec(id, lines)); err != nil {
			if errors.Is(err, websocket.ErrCloseSent) {
				return i, errors.New("connection closed")
			}
			return i, err
		}
	}
	return count, nil
}

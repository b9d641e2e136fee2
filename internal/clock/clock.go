// Package clock lets code that waits on time be driven by tests: production
// code takes a Clock, tests pass a Fake and move it forward by hand.
package clock

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// Clock is the part of package time that timed code uses.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a stoppable one-shot timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }

func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// Within reports whether ch is closed before d passes on c.
func Within(c Clock, d time.Duration, ch <-chan struct{}) bool {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C():
		return false
	}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Fake is a clock that moves only when told to.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

// NewFake returns a Fake set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, c: make(chan time.Time, 1), at: f.now.Add(d), active: true}
	f.timers = append(f.timers, t)
	if d <= 0 {
		f.fireLocked(t)
	}
	return t
}

// Advance moves the clock forward by d, firing due timers in time order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := f.now.Add(d)
	for {
		due := f.dueLocked(end)
		if due == nil {
			break
		}
		if due.at.After(f.now) {
			f.now = due.at
		}
		f.fireLocked(due)
	}
	f.now = end
}

// Pending is how many timers are armed; tests wait on it to know that the
// code under test has gone to sleep.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.timers {
		if t.active {
			n++
		}
	}
	return n
}

// Armed is how long until each armed timer fires, soonest first: tests
// wait on it to know which sleep the code under test has gone into when
// Pending alone cannot tell (a reply's timeout from the interval after it).
func (f *Fake) Armed() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var left []time.Duration
	for _, t := range f.timers {
		if t.active {
			left = append(left, t.at.Sub(f.now))
		}
	}
	slices.Sort(left)
	return left
}

func (f *Fake) dueLocked(end time.Time) *fakeTimer {
	var active []*fakeTimer
	for _, t := range f.timers {
		if t.active && !t.at.After(end) {
			active = append(active, t)
		}
	}
	if len(active) == 0 {
		return nil
	}
	sort.SliceStable(active, func(i, j int) bool { return active[i].at.Before(active[j].at) })
	return active[0]
}

func (f *Fake) fireLocked(t *fakeTimer) {
	t.active = false
	select {
	case t.c <- t.at:
	default:
	}
}

type fakeTimer struct {
	f      *Fake
	c      chan time.Time
	at     time.Time
	active bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.active
	t.at = t.f.now.Add(d)
	t.active = true
	if d <= 0 {
		t.f.fireLocked(t)
	}
	return was
}

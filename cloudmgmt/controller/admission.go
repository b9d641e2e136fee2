package controller

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// Admission control (Config.AdmitWindow). A restarted controller is hit by
// its whole fleet within a second: admitting every session at once buries it
// in TLS handshakes, registrations and upgrades, devices time out and retry,
// and the storm feeds itself. Instead new sessions are admitted at a steady
// rate by virtual scheduling (GCRA); a device turned away gets 503 +
// Retry-After with a slot of its own, so when it comes back it is admitted
// whatever new devices arrive meanwhile, and the fleet is in after about one
// window.

const (
	minAdmitRate  = 50.0             // sessions per second, however small the fleet
	minAdmitBurst = 10.0             // sessions admitted back to back
	reserveEarly  = time.Second      // devices round and jitter: a slot opens this much early
	reserveStale  = 60 * time.Second // a device this late gave up its slot (or went elsewhere)
	sweepPerAuth  = 64               // stale reservations dropped per auth, at most
)

// admission is the GCRA state; guarded by Server.mu.
type admission struct {
	window   time.Duration
	tat      time.Time            // theoretical arrival time of the next session
	reserved map[string]time.Time // serial → its slot
	queue    []reservation        // every reservation made, in slot order, for the sweep
	admitted uint64               // auths answered 200
	busy     uint64               // auths answered 503 busy
	unlogged uint64               // busy answers not yet in a log line
	loggedAt time.Time
}

type reservation struct {
	serial string
	slot   time.Time
}

// admitResult is one admission decision; the log fields are set at most
// once a second (a fleet of 10,000 must not log a line per device).
type admitResult struct {
	ok           bool
	wait         time.Duration // until the slot, when !ok
	rate         float64
	logBusy      uint64 // busy answers to log now (0: no line)
	reservations int
	backlog      time.Duration
}

// AdmissionInfo is the admin view of admission control.
type AdmissionInfo struct {
	WindowSeconds float64 `json:"window_seconds"`  // 0: admission control off
	RatePerSecond float64 `json:"rate_per_second"` // 0 when off
	Admitted      uint64  `json:"admitted"`        // auths answered 200
	Busy          uint64  `json:"busy"`            // auths answered 503 busy
	Reservations  int     `json:"reservations"`    // devices holding a slot
}

// rate is r = max(50, fleet/window) sessions per second: the whole fleet
// gets in within one window, small fleets are not slowed for nothing.
func (a *admission) rate(fleet int) float64 {
	return max(minAdmitRate, float64(fleet)/a.window.Seconds())
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// admit decides whether serial's auth (one that would otherwise succeed)
// starts a session now.
func (s *Server) admit(serial string) admitResult {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.adm
	if a.window <= 0 {
		a.admitted++
		return admitResult{ok: true}
	}
	a.sweep(now)
	res := a.decide(serial, now, a.rate(len(s.serials)))
	if res.ok {
		a.admitted++
	} else {
		a.noteBusy(now, &res)
	}
	return res
}

// decide is GCRA with reservations.
func (a *admission) decide(serial string, now time.Time, r float64) admitResult {
	if slot, ok := a.reserved[serial]; ok && !now.After(slot.Add(reserveStale)) {
		if now.Before(slot.Add(-reserveEarly)) {
			// too early: the slot stays, no second reservation
			return admitResult{wait: slot.Sub(now), rate: r}
		}
		// its own slot: admitted without touching tat, which already
		// counted it when the slot was given
		delete(a.reserved, serial)
		return admitResult{ok: true, rate: r}
	}
	delete(a.reserved, serial) // a stale slot, if any: the device starts over
	per := seconds(1 / r)
	if !a.tat.After(now.Add(seconds(max(minAdmitBurst, r/5) / r))) {
		a.tat = later(a.tat, now).Add(per)
		return admitResult{ok: true, rate: r}
	}
	slot := later(a.tat, now)
	a.tat = slot.Add(per)
	a.reserved[serial] = slot
	a.queue = append(a.queue, reservation{serial, slot})
	return admitResult{wait: slot.Sub(now), rate: r}
}

// sweep drops reservations gone stale, oldest first. Slots are handed out
// in increasing order, so the queue is sorted and the work per auth is
// bounded; each auth adds at most one entry and may drop many, so the map
// and the queue hold only the last minute or so of reservations.
func (a *admission) sweep(now time.Time) {
	for i := 0; i < sweepPerAuth && len(a.queue) > 0; i++ {
		q := a.queue[0]
		if !now.After(q.slot.Add(reserveStale)) {
			return
		}
		if slot, ok := a.reserved[q.serial]; ok && slot.Equal(q.slot) {
			delete(a.reserved, q.serial)
		}
		a.queue[0] = reservation{}
		a.queue = a.queue[1:]
	}
}

func (a *admission) noteBusy(now time.Time, res *admitResult) {
	a.busy++
	a.unlogged++
	if now.Sub(a.loggedAt) < time.Second {
		return
	}
	res.logBusy, res.reservations, res.backlog = a.unlogged, len(a.reserved), a.tat.Sub(now)
	a.unlogged, a.loggedAt = 0, now
}

// retryAfter is the whole seconds until the slot, at least 1 (delta-seconds
// of RFC 9110 §10.2.3; rounding up so that the device is never early).
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// answerBusy writes 503 + Retry-After with a busy body.
func (s *Server) answerBusy(w http.ResponseWriter, res admitResult) {
	n := retryAfter(res.wait)
	if res.logBusy > 0 {
		s.zl.Info("admission: controller busy", zap.Uint64("busy_answers", res.logBusy),
			zap.Float64("rate_per_second", res.rate), zap.Int("reservations", res.reservations),
			zap.Duration("backlog", res.backlog))
	}
	w.Header().Set(wire.HeaderRetryAfter, strconv.Itoa(n))
	writeJSON(w, http.StatusServiceUnavailable, wire.AuthResponse{Result: wire.ResultFailure,
		Reason: wire.ReasonBusy, Message: fmt.Sprintf(
			"controller busy: admitting %.0f sessions per second; retry after %d s", res.rate, n)})
}

// Admission returns the admission counters.
func (s *Server) Admission() AdmissionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.adm
	info := AdmissionInfo{Admitted: a.admitted, Busy: a.busy, Reservations: len(a.reserved)}
	if a.window > 0 {
		info.WindowSeconds = a.window.Seconds()
		info.RatePerSecond = a.rate(len(s.serials))
	}
	return info
}

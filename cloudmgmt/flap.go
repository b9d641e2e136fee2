package cloudmgmt

import (
	"fmt"
	"time"
)

// Flap damping (cloud-management.md; BGP's idle-hold timer is the model).
// A controller that completes auth, register and the upgrade and then breaks
// the main connection at once would otherwise see the device back after the
// 0–1 s connected→down jitter, over and over. So the backoff resets only
// once a connection has proved stable, and a connection that goes down
// before that is a failed attempt at its server.

// stableAfter is how long a connection must have been up to be stable when
// no keepalive-ack has arrived yet.
const stableAfter = 60 * time.Second

// uptime is what the stability rule needs to know about the established
// connection: stable once its first keepalive-ack arrives or it has been up
// stableAfter, whichever comes first.
type uptime struct {
	since  time.Time
	acked  bool // a keepalive-ack arrived
	stable bool
}

// check marks the connection stable once the rule holds at now; it reports
// whether that happened just now (the first time).
func (u *uptime) check(now time.Time) bool {
	if u.stable || !u.acked && now.Sub(u.since) < stableAfter {
		return false
	}
	u.stable = true
	return true
}

// proveStable resets the backoff the first time the connection is stable.
func (f *fsm) proveStable(u *uptime) {
	c := f.c
	if !u.check(c.clk.Now()) {
		return
	}
	f.pass, f.tried, f.retryAfter = 0, 0, 0
	c.mu.Lock()
	if c.conn != nil {
		c.conn.stable = true
	}
	c.mu.Unlock()
	c.debugf(DebugEvent, "Cloud connection stable after %s: backoff reset", u.stableWhy())
}

func (u *uptime) stableWhy() string {
	if u.acked {
		return "the first keepalive-ack"
	}
	return fmt.Sprintf("%d seconds up", int(stableAfter/time.Second))
}

// flapReason is the Failure reason of a connection that went down before it
// was stable: the down reason becomes its details.
func flapReason(down Reason) Reason {
	d := down.Kind.String()
	if down.Details != "" {
		d += ": " + down.Details
	}
	return Reason{ReasonFlap, d}
}

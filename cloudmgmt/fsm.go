package cloudmgmt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/internal/device"
)

// State is the cloud connection state (display cloud-management state).
type State int

const (
	StateIdle State = iota
	StateResolving
	StateConnecting
	StateAuthenticating
	StateRegistering
	StateUpgrading
	StateEstablished
	StateWaiting
)

var stateNames = [...]string{"Idle", "Resolving", "Connecting", "Authenticating", "Registering",
	"Upgrading", "Established", "Waiting"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Device states and process states as display cloud-management state shows them.
const (
	DevIdle            = "Idle"
	DevRequestSuccess  = "Request_success"
	DevRequestFailure  = "Request_failure"
	DevBoundElsewhere  = "Bound_elsewhere"
	DevRegisterFailure = "Register_failure"

	ProcIdle     = "Idle"
	ProcSent     = "Message sent"
	ProcReceived = "Message received"
)

// ReasonKind classifies why a state ended. Its String is the text before
// "(Details:…)" on the status lines.
type ReasonKind int

const (
	ReasonNone ReasonKind = iota
	// failures of an attempt (Failure reason)
	ReasonDNS
	ReasonTCP
	ReasonTLSUntrusted
	ReasonTLS
	ReasonAuth
	ReasonRegister
	ReasonUpgrade
	// a connection that went down before it was stable (flap.go)
	ReasonFlap
	// ends of an established connection (Last down reason)
	ReasonSocket
	ReasonKeepalive
	ReasonPing
	ReasonServerClosed
	ReasonProtocol
	ReasonReregister
	ReasonDomainChanged
	ReasonConfigRemoved
	ReasonResetByUser
)

var reasonNames = map[ReasonKind]string{
	ReasonNone:          "",
	ReasonDNS:           "DNS resolution failed",
	ReasonTCP:           "TCP connection failed",
	ReasonTLSUntrusted:  "TLS certificate not trusted",
	ReasonTLS:           "TLS handshake failed",
	ReasonAuth:          "Authentication failed",
	ReasonRegister:      "Registration failed",
	ReasonUpgrade:       "WebSocket upgrade failed",
	ReasonFlap:          "Connection dropped right after establishment",
	ReasonSocket:        "socket connection error",
	ReasonKeepalive:     "keepalive timeout",
	ReasonPing:          "ping timeout",
	ReasonServerClosed:  "server closed connection",
	ReasonProtocol:      "protocol error",
	ReasonReregister:    "reregister requested",
	ReasonDomainChanged: "domain changed",
	ReasonConfigRemoved: "configuration removed",
	ReasonResetByUser:   "reset by user",
}

func (k ReasonKind) String() string { return reasonNames[k] }

// Reason is a typed reason with its details.
type Reason struct {
	Kind    ReasonKind
	Details string
}

// String renders `keepalive timeout (Details:…)`; empty for ReasonNone.
func (r Reason) String() string {
	if r.Kind == ReasonNone {
		return ""
	}
	d := r.Details
	if d == "" {
		d = "N/A"
	}
	return fmt.Sprintf("%s (Details:%s)", r.Kind, d)
}

var errStepTimeout = errors.New("timed out")

// fsm is the state owned by the Run goroutine.
type fsm struct {
	c      *Client
	list   []server
	idx    int  // server being tried / in use
	tried  int  // servers tried in this pass
	pass   int  // consecutive passes without success (n of the backoff)
	jitter bool // next wait is the 0–1 s connected→down jitter
	// flapped: the last failed attempt was a connection that went down
	// before it was stable (the wait says so).
	flapped bool
	// retryAfter is the shortest Retry-After a busy server gave in this
	// pass: the wait after it instead of the backoff.
	retryAfter time.Duration
	// parked is the connection a busy server answered on, kept through the
	// wait for the next attempt at that server (no new TLS handshake).
	parked *parkedConn
	// bg owns the background lookups (lookAhead); Run joins them.
	bg       *sync.WaitGroup
	lastDHCP string
	sess     *session
	state    State
}

// Run runs the cloud connection until ctx is cancelled. Every goroutine it
// starts has ended when it returns. It returns nil after cancellation.
func (c *Client) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if c.o.LogSource != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.drainLogs(ctx) }()
	}
	f := &fsm{c: c, bg: &wg}
	g := c.snapshotGoal()
	f.lastDHCP = g.dhcpDomain
	f.list = serverList(g)
	c.takePending()
	state := StateIdle
	if len(f.list) > 0 {
		state = StateResolving
	}
	for ctx.Err() == nil {
		f.enter(state)
		var next State
		var r Reason
		switch state {
		case StateIdle:
			next, r = f.idle(ctx)
		case StateResolving:
			next, r = f.resolving(ctx)
		case StateConnecting:
			next, r = f.connecting(ctx)
		case StateAuthenticating:
			next, r = f.authenticating(ctx)
		case StateRegistering:
			next, r = f.registering(ctx)
		case StateUpgrading:
			next, r = f.upgrading(ctx)
		case StateEstablished:
			next, r = f.established(ctx)
		case StateWaiting:
			next, r = f.waiting(ctx)
		}
		c.zl.Debug("transition", zap.Stringer("from", state), zap.Stringer("to", next),
			zap.String("reason", r.String()))
		c.debugTransition(state, next, r)
		state = next
	}
	f.closeSession()
	f.dropParked()
	wg.Wait()
	c.setStatus(func(s *device.CloudStatus) {
		s.ConnState = StateIdle.String()
		s.ProcessState = ProcIdle
	})
	return nil
}

func (f *fsm) enter(s State) {
	f.state = s
	f.c.setStatus(func(st *device.CloudStatus) {
		st.ConnState = s.String()
		switch s {
		case StateIdle:
			st.ServerAddress, st.ServerDomain, st.ServerPort, st.Mode = "", "", 0, ""
			st.DeviceState, st.ProcessState = DevIdle, ProcIdle
		case StateResolving:
			srv := f.list[f.idx]
			st.ServerDomain, st.ServerPort, st.ServerAddress = srv.Domain, srv.Port, ""
			st.Mode = f.c.mode()
			st.ProcessState = ProcIdle
		case StateWaiting:
			st.ProcessState = ProcIdle
		}
	})
}

func (c *Client) mode() string {
	if c.o.LabPlainWS {
		return "Http"
	}
	return "Https"
}

// onWake handles what happened while in a state. It returns whether the
// current state must be left, for which state, and (when established) the
// down reason.
func (f *fsm) onWake(established bool) (leave bool, next State, down Reason) {
	c := f.c
	p := c.takePending()
	g := c.snapshotGoal()
	list := serverList(g)
	dhcpChanged := !sameDomain(g.dhcpDomain, f.lastDHCP)
	f.lastDHCP = g.dhcpDomain
	if !p.config && !p.reset && !p.unbound {
		return false, f.state, Reason{}
	}
	if len(list) == 0 {
		f.list = nil
		return true, StateIdle, Reason{ReasonConfigRemoved, "no cloud server domain"}
	}
	if established {
		cur := f.list[f.idx].Domain
		switch {
		case p.reset:
			down = Reason{ReasonResetByUser, "reset cloud-management tunnel"}
		case dhcpChanged && g.dhcpDomain != "" && !sameDomain(g.dhcpDomain, cur):
			down = Reason{ReasonDomainChanged, "DHCP domain " + g.dhcpDomain}
		case indexOf(list, cur) < 0:
			down = Reason{ReasonDomainChanged, cur + " no longer configured"}
		default:
			// Same server stays in use; port/keepalive/ping changes apply
			// to the next connection.
			f.list, f.idx = list, indexOf(list, cur)
			return false, StateEstablished, Reason{}
		}
	}
	f.startOver(list)
	return true, StateResolving, down
}

// startOver begins a fresh pass at the top of list with the backoff reset.
func (f *fsm) startOver(list []server) {
	f.list, f.idx, f.tried, f.pass, f.jitter, f.retryAfter = list, 0, 0, 0, false, 0
	f.dropParked()
}

func (f *fsm) idle(ctx context.Context) (State, Reason) {
	f.dropParked()
	for {
		select {
		case <-ctx.Done():
			return StateIdle, Reason{}
		case <-f.c.wake:
			if leave, next, _ := f.onWake(false); leave && next != StateIdle {
				return next, Reason{}
			}
		}
	}
}

// fail records a failed attempt at the current server and picks the next
// one, or Waiting after a full pass.
func (f *fsm) fail(r Reason) (State, Reason) { return f.failDev("", r) }

// failDev is fail that also sets the device state, in the same snapshot.
func (f *fsm) failDev(dev string, r Reason) (State, Reason) {
	c := f.c
	f.closeSession()
	srv := f.list[f.idx]
	c.setStatus(func(s *device.CloudStatus) {
		if dev != "" {
			s.DeviceState = dev
		}
		s.FailureReason = r.String()
		s.ProcessState = ProcIdle
	})
	c.logEvent("CLOUD_FAILED", fmt.Sprintf("Failed to connect to cloud server %s: %s.", srv.Domain, r))
	f.flapped = r.Kind == ReasonFlap
	f.tried++
	if f.tried >= len(f.list) {
		if f.retryAfter == 0 {
			f.pass++ // a server that said when to come back is not a failed pass
		}
		f.tried = 0
		f.idx = 0
		return StateWaiting, r
	}
	f.idx = (f.idx + 1) % len(f.list)
	return StateResolving, r
}

// backoffRange is [m·2^(n−1), m·2^n] with n capped so that m·2^n stays
// under BackoffMax (m=5s, max 300s: n ≤ 5, at most 160 s).
func (c *Client) backoffRange(n int) (lo, hi time.Duration) {
	m := c.o.BackoffBase
	if n < 1 {
		n = 1
	}
	for n > 1 && m<<n >= c.o.BackoffMax {
		n--
	}
	return m << (n - 1), m << n
}

func (f *fsm) waiting(ctx context.Context) (State, Reason) {
	c := f.c
	var d time.Duration
	switch {
	case f.jitter:
		f.jitter = false
		d = c.randBetween(0, time.Second)
	case f.retryAfter > 0:
		// the busy server's own time, spread over a second so that the
		// devices it gave the same number do not come back together
		d = f.retryAfter + c.randBetween(0, time.Second)
		f.retryAfter = 0
		c.logEvent("CLOUD_WAITING", fmt.Sprintf("Cloud server busy; next attempt in %d seconds.",
			int(d.Round(time.Second)/time.Second)))
	default:
		lo, hi := c.backoffRange(f.pass)
		d = c.randBetween(lo, hi)
		why := "No cloud server reachable"
		if f.flapped {
			why = "Cloud connection dropped right after establishment"
		}
		c.logEvent("CLOUD_WAITING", fmt.Sprintf("%s; next attempt in %d seconds.",
			why, int(d.Round(time.Second)/time.Second)))
	}
	// Armed before it is shown: whoever sees the next attempt (a display,
	// a test moving a fake clock) sees a wait already under way.
	t := c.clk.NewTimer(d)
	defer t.Stop()
	c.mu.Lock()
	c.nextAttempt = c.clk.Now().Add(d)
	c.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return StateIdle, Reason{}
		case <-t.C():
			return StateResolving, Reason{}
		case <-c.wake:
			if leave, next, _ := f.onWake(false); leave {
				return next, Reason{}
			}
		}
	}
}

// step runs fn (blocking I/O of one state) while watching the step timeout
// on the clock, cancellation and configuration events. If an event makes
// the state obsolete, leave is true and next says where to go.
func (f *fsm) step(ctx context.Context, fn func(ctx context.Context) error) (leave bool, next State, err error) {
	return f.stepT(ctx, f.c.o.StepTimeout, fn)
}

// stepT is step with its own time-out.
func (f *fsm) stepT(ctx context.Context, timeout time.Duration, fn func(ctx context.Context) error) (leave bool, next State, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(sctx) }()
	t := f.c.clk.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return false, 0, err
		case <-t.C():
			cancel()
			<-done
			return false, 0, errStepTimeout
		case <-ctx.Done():
			cancel()
			<-done
			f.closeSession()
			return true, StateIdle, ctx.Err()
		case <-f.c.wake:
			if l, n, _ := f.onWake(false); l {
				cancel()
				<-done
				f.closeSession()
				return true, n, nil
			}
		}
	}
}

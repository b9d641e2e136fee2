package sshd

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netdevd/netdevd/internal/logbuf"
)

// Defence numbers (README.md explains them).
const (
	// MaxStartups caps connections that have not authenticated yet, in total
	// and per source address (OpenSSH MaxStartups / PerSourceMaxStartups).
	// Per source it equals the VTY lines: one automation host may open all
	// 16 sessions at once (Ansible forks, Netmiko thread pools).
	MaxStartups          = 64
	MaxStartupsPerSource = DefaultMaxSessions
	// PenaltyThreshold failed logins from one source start a block of
	// PenaltyFirst, doubling for each further block up to PenaltyMax
	// (OpenSSH PerSourcePenalties). A source with no failure for
	// PenaltyForget is forgotten.
	PenaltyThreshold = 5
	PenaltyFirst     = 10 * time.Second
	PenaltyMax       = 10 * time.Minute
	PenaltyForget    = 30 * time.Minute
	// maxSources bounds the penalty table; beyond it, new sources are not
	// tracked (permissive, like OpenSSH's default overflow mode).
	maxSources = 16384
	// logEvery rate-limits the repeated log lines (refused connections).
	logEvery = time.Minute
)

// sourceOf is the penalty key of a remote address: the IP address (an IPv4
// address mapped into IPv6 counts as the IPv4 address).
func sourceOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap().String()
		}
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

type source struct {
	unauth       int       // connections from it not yet authenticated
	failures     int       // failed logins since the last block
	level        int       // blocks so far
	blockedUntil time.Time // zero: not blocked
	lastFailure  time.Time
	refused      int // connections refused since the last log line
	lastLog      time.Time
}

// defence keeps the per-source and global counters.
type defence struct {
	s       *Server
	mu      sync.Mutex
	sources map[string]*source
	unauth  int
	conns   map[*trackedConn]struct{}
	refusedLog
}

type refusedLog struct {
	disabledLast, capLast time.Time
	disabledN, capN       int
}

func (d *defence) init(s *Server) {
	d.s = s
	d.sources = map[string]*source{}
	d.conns = map[*trackedConn]struct{}{}
}

func (d *defence) now() time.Time { return d.s.clk.Now() }

// get returns the record of src, creating it when there is room.
func (d *defence) get(src string, create bool) *source {
	st := d.sources[src]
	if st != nil || !create {
		return st
	}
	if len(d.sources) >= maxSources {
		d.sweepLocked()
		if len(d.sources) >= maxSources {
			return nil
		}
	}
	st = &source{}
	d.sources[src] = st
	return st
}

// sweepLocked forgets sources that are neither blocked, connected nor
// recently failing.
func (d *defence) sweepLocked() {
	now := d.now()
	for k, st := range d.sources {
		if st.unauth == 0 && now.After(st.blockedUntil) && now.Sub(st.lastFailure) > PenaltyForget {
			delete(d.sources, k)
		}
	}
}

// admit decides whether a freshly accepted connection may proceed to the
// handshake. It is called before any byte is read or written.
func (d *defence) admit(conn net.Conn, enabled bool) (*trackedConn, bool) {
	src := sourceOf(conn.RemoteAddr())
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if !enabled {
		d.disabledN++
		if now.Sub(d.disabledLast) >= logEvery {
			d.s.log.Log("SSHS", logbuf.Notification, "SSHS_SRV_UNAVAILABLE",
				fmt.Sprintf("The SSH server is disabled; refused %d connection(s), the last from %s.", d.disabledN, src))
			d.disabledLast, d.disabledN = now, 0
		}
		return nil, false
	}
	st := d.get(src, false)
	if st != nil && now.Before(st.blockedUntil) {
		st.refused++
		if now.Sub(st.lastLog) >= logEvery {
			d.s.log.Log("SSHS", logbuf.Warning, "SSHS_SRC_BLOCKED",
				fmt.Sprintf("Refused %d connection(s) from blocked source %s (blocked for %d more seconds).",
					st.refused, src, int(st.blockedUntil.Sub(now).Seconds()+0.999)))
			st.lastLog, st.refused = now, 0
		}
		d.s.refusedBlocked.Add(1)
		return nil, false
	}
	if d.unauth >= MaxStartups || (st != nil && st.unauth >= MaxStartupsPerSource) ||
		len(d.conns) >= MaxStartups+2*d.s.maxSessions {
		d.capN++
		if now.Sub(d.capLast) >= logEvery {
			d.s.log.Log("SSHS", logbuf.Warning, "SSHS_CONN_LIMIT",
				fmt.Sprintf("Refused %d connection(s) over the connection limits, the last from %s.", d.capN, src))
			d.capLast, d.capN = now, 0
		}
		d.s.refusedCap.Add(1)
		return nil, false
	}
	if st == nil {
		st = d.get(src, true)
	}
	if st != nil {
		st.unauth++
	}
	d.unauth++
	tc := &trackedConn{Conn: conn, d: d, src: src}
	d.conns[tc] = struct{}{}
	return tc, true
}

// blocked reports whether src is blocked now (checked again at each login
// attempt: a block closes the door on connections already open, too).
func (d *defence) blocked(src string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.get(src, false)
	return st != nil && d.now().Before(st.blockedUntil)
}

// failed counts one failed login from src and starts a block when the
// threshold is reached. Connections from src that are still logging in are
// closed when the block starts.
func (d *defence) failed(src string) {
	var toClose []*trackedConn
	d.mu.Lock()
	now := d.now()
	st := d.get(src, true)
	if st == nil {
		d.mu.Unlock()
		return
	}
	if now.Sub(st.lastFailure) > PenaltyForget && now.After(st.blockedUntil) {
		st.failures, st.level = 0, 0
	}
	st.lastFailure = now
	if now.Before(st.blockedUntil) {
		d.mu.Unlock()
		return
	}
	st.failures++
	if st.failures >= PenaltyThreshold {
		dur := PenaltyFirst << min(st.level, 20)
		if dur > PenaltyMax || dur <= 0 {
			dur = PenaltyMax
		}
		st.level++
		st.failures = 0
		st.blockedUntil = now.Add(dur)
		st.lastLog = now
		d.s.log.Log("SSHS", logbuf.Warning, "SSHS_SRC_BLOCKED",
			fmt.Sprintf("Blocked source %s for %d seconds after %d failed logins.", src, int(dur.Seconds()), PenaltyThreshold))
		for tc := range d.conns {
			if tc.src == src && !tc.authed.Load() {
				toClose = append(toClose, tc)
			}
		}
	}
	d.mu.Unlock()
	for _, tc := range toClose {
		tc.Close()
	}
}

// succeeded moves c from "logging in" to "logged in" and forgets the
// failures (not an active block) of its source.
func (d *defence) succeeded(c *trackedConn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c.authed.Swap(true) || c.released {
		return
	}
	d.unauth--
	if st := d.sources[c.src]; st != nil {
		st.unauth--
		st.failures = 0
	}
}

func (d *defence) release(c *trackedConn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c.released {
		return
	}
	c.released = true
	delete(d.conns, c)
	if !c.authed.Load() {
		d.unauth--
		if st := d.sources[c.src]; st != nil {
			st.unauth--
		}
	}
}

func (d *defence) closeAll() {
	d.mu.Lock()
	all := make([]*trackedConn, 0, len(d.conns))
	for tc := range d.conns {
		all = append(all, tc)
	}
	d.mu.Unlock()
	for _, tc := range all {
		tc.Close()
	}
}

func (d *defence) live() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// trackedConn is a connection under the server's accounting. The server owns
// its deadline: the login deadline is set on the socket at accept and cleared
// at authentication; SetDeadline calls from the SSH library (gliderlabs
// resets it on every read when it has no idle timeout) are ignored.
type trackedConn struct {
	net.Conn
	d        *defence
	src      string
	authed   atomic.Bool
	released bool // under d.mu

	mu            sync.Mutex
	user          string // authenticated user
	reason        string // why the last password attempt failed
	loggedFail    bool
	keyFailedUser string
	attempts      int // authentication attempts (display ssh server session)
	closeOnce     sync.Once
}

// setReason records why the connection's last attempt failed.
func (tc *trackedConn) setReason(r string) {
	tc.mu.Lock()
	tc.reason = r
	tc.mu.Unlock()
}

func (c *trackedConn) SetDeadline(time.Time) error      { return nil }
func (c *trackedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *trackedConn) SetWriteDeadline(time.Time) error { return nil }

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		c.d.release(c)
		c.d.s.connClosed(c)
	})
	return err
}

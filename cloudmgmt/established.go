package cloudmgmt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/shortstack"
)

// wsConn wraps one WebSocket with a write lock: one reader goroutine, any
// number of writers serialised here (gorilla allows one concurrent writer).
type wsConn struct {
	ws       *websocket.Conn
	c        *Client
	wmu      sync.Mutex
	pongSeen atomic.Bool
	main     bool       // updates Process state
	execs    *execQueue // main connection: exec frames go here (exec.go)
}

const writeWait = 10 * time.Second

func (w *wsConn) write(b []byte) error {
	w.wmu.Lock()
	// shown before it is written: the answer may be read before the
	// write returns
	w.c.debugFrame("Sent", w.main, b)
	w.ws.SetWriteDeadline(time.Now().Add(writeWait))
	err := w.ws.WriteMessage(websocket.TextMessage, b)
	w.wmu.Unlock()
	if err != nil {
		w.c.debugf(DebugPacket, "Sending the frame failed: %s", shortErr(err))
	}
	if err == nil && w.main {
		w.c.setStatus(func(s *device.CloudStatus) { s.ProcessState = ProcSent })
	}
	return err
}

func (w *wsConn) ping() error {
	return w.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
}

// closeWith sends a Close frame (best effort, short deadline) and closes
// the socket, which ends the reader.
func (w *wsConn) closeWith(code int, text string) {
	if code != 0 {
		w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
			time.Now().Add(time.Second))
	}
	w.ws.Close()
}

// frameError is a protocol violation by the peer with the close code we send.
type frameError struct {
	code int
	msg  string
}

func (e *frameError) Error() string { return e.msg }

// readFrames is the one reader of a connection: it decodes every text frame,
// lets gorilla answer pings and deliver pongs, and ends on the first error.
// On the main connection it reads only while the exec queue has room, and
// hands exec frames to it.
func (w *wsConn) readFrames(ctx context.Context, out chan<- wire.Frame, errc chan<- error) {
	for {
		if !w.execs.reserve() {
			errc <- ctx.Err()
			return
		}
		mt, data, err := w.ws.ReadMessage()
		if err != nil {
			errc <- err
			return
		}
		var fr wire.Frame
		// decoding needs a deeper stack than the waiting reader: keep it
		// off the connection's goroutine (internal/shortstack)
		shortstack.Do(func() { fr, err = w.frame(mt, data) })
		if err != nil {
			errc <- err
			return
		}
		if fr.Type == wire.TypeExec && w.execs != nil {
			w.execs.push(fr)
			continue
		}
		select {
		case out <- fr:
		case <-ctx.Done():
			errc <- ctx.Err()
			return
		}
	}
}

// frame decodes one received message; a *frameError says how to close.
func (w *wsConn) frame(mt int, data []byte) (wire.Frame, error) {
	if mt != websocket.TextMessage {
		return wire.Frame{}, &frameError{websocket.CloseUnsupportedData, "binary frame"}
	}
	fr, err := decodeFrame(data)
	if err != nil {
		return wire.Frame{}, &frameError{websocket.CloseProtocolError, err.Error()}
	}
	if w.main {
		w.c.setStatus(func(s *device.CloudStatus) { s.ProcessState = ProcReceived })
	}
	w.c.debugFrame("Received", w.main, data)
	return fr, nil
}

// decodeFrame is the device's decoder for frames from the controller.
func decodeFrame(b []byte) (wire.Frame, error) { return wire.DecodeFrame(b, wire.ToDevice) }

// classifyRead turns the reader's error into a down reason and the close
// code to send (0 = none).
func classifyRead(err error) (Reason, int) {
	var ce *websocket.CloseError
	var fe *frameError
	switch {
	case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
		// 1006 never crosses the wire (RFC 6455 §7.4.1): gorilla reports
		// a stream that ended without a Close frame this way. That is a
		// socket loss, not the server closing.
		return Reason{ReasonSocket, "connection lost without a close frame"}, 0
	case errors.As(err, &ce):
		d := fmt.Sprintf("close %d", ce.Code)
		if ce.Text != "" {
			d += " " + ce.Text
		}
		return Reason{ReasonServerClosed, d}, 0
	case errors.Is(err, websocket.ErrReadLimit):
		return Reason{ReasonProtocol, "frame over 64 KiB (close 1009)"}, 0 // gorilla sent 1009
	case errors.As(err, &fe):
		return Reason{ReasonProtocol, fmt.Sprintf("%s (close %d)", fe.msg, fe.code)}, fe.code
	}
	return Reason{ReasonSocket, shortErr(err)}, 0
}

// connInfo is what Unbind and telemetry need to know about the server in use.
type connInfo struct {
	srv         server
	addr        string
	connectedAt time.Time
	sess        *session
	stable      bool // proved stable (flap.go)
}

// established runs the main connection until it goes down, the
// configuration moves the device elsewhere or ctx ends: setup (openMain,
// greet), then one event at a time until one ends the connection, then
// teardown (lost, finish, shutDown). The event loop stays here, and the
// handlers return an ending instead of tearing down themselves, so that
// the deep calls (the telemetry report's JSON encoding, frames written
// through TLS) run no deeper than before the split: this long-lived
// goroutine's stack is sized by its deepest call and sits at 8 KB per
// device (bench/README.md).
func (f *fsm) established(ctx context.Context) (State, Reason) {
	m := f.openMain(ctx)
	e := m.greet()
	if e.kind == stillUp {
		m.c.reportTelemetry()
	}
	for e.kind == stillUp {
		select {
		case <-ctx.Done():
			e = ending{kind: endStop}
		case <-m.c.wake:
			if leave, next, r := f.onWake(true); leave {
				e = ending{kind: endLeave, r: r, next: next}
			}
		case err := <-m.rerr:
			r, code := classifyRead(err)
			e = ending{kind: endLost, r: r, code: code}
		case fr := <-m.frames:
			e = m.onFrame(fr)
		case <-m.kaT.C():
			e = m.keepaliveTick()
		case <-m.pingT.C():
			e = m.pingTick()
		case <-m.teleT.C():
			m.c.reportTelemetry()
			m.teleT.Reset(m.c.o.TelemetryInterval)
		}
	}
	switch e.kind {
	case endStop:
		return m.shutDown()
	case endLeave:
		return m.finish(e.r, websocket.CloseNormalClosure, e.next)
	}
	return m.lost(e.r, e.code)
}

// ending says whether and how an event ends the main connection.
type ending struct {
	kind endKind
	r    Reason
	code int   // lost: the close code to send (0 = none)
	next State // leave: the state to go to
}

type endKind int

const (
	stillUp  endKind = iota // the connection goes on
	endLost                 // the controller or the network broke it
	endLeave                // the configuration moves the device away (onWake)
	endStop                 // the client is shutting down
)

func lostSocket(err error) ending {
	return ending{kind: endLost, r: Reason{ReasonSocket, shortErr(err)}}
}

// mainConn is the established main connection, owned by the state machine
// for one call of established: its reader and sub-connection goroutines,
// its timers and its dead-peer counters.
type mainConn struct {
	f      *fsm
	c      *Client
	s      *session
	w      *wsConn
	ctx    context.Context // the connection's: cancelled at teardown
	cancel context.CancelFunc
	wg     sync.WaitGroup // the reader, the exec runner and the sub-connections
	frames chan wire.Frame
	rerr   chan error
	up     uptime

	kaInt, pingInt    time.Duration
	kaT, pingT, teleT clock.Timer

	kaSeq                uint64
	ackSeen              bool // a keepalive-ack arrived in this interval
	missedKA, missedPing int
	kaMark, pingMark     uint64 // exec queue stalls seen at the last tick
	subsStarted          bool
}

// openMain records the connection as established and starts its reader
// and timers.
func (f *fsm) openMain(ctx context.Context) *mainConn {
	c, s := f.c, f.sess
	now := c.clk.Now()
	// The backoff resets only once the connection is stable (flap.go).
	f.jitter = false
	f.markEstablished(s, now)

	m := &mainConn{f: f, c: c, s: s, up: uptime{since: now},
		w:      &wsConn{ws: s.ws, c: c, main: true},
		frames: make(chan wire.Frame, 1), // the consumer is quick; each slot is ~180 B per connection
		rerr:   make(chan error, 1),
	}
	m.ctx, m.cancel = context.WithCancel(ctx)
	m.w.ws.SetPongHandler(func(string) error {
		m.w.pongSeen.Store(true)
		c.setStatus(func(st *device.CloudStatus) { st.ProcessState = ProcReceived })
		return nil
	})
	m.w.execs = c.newExecQueue(m.ctx, m.w, &m.wg)
	m.wg.Add(1)
	go func() { defer m.wg.Done(); m.w.readFrames(m.ctx, m.frames, m.rerr) }()

	m.kaInt = time.Duration(s.keepalive) * time.Second
	m.pingInt = time.Duration(s.ping) * time.Second
	m.kaT = c.clk.NewTimer(m.kaInt)
	m.pingT = c.clk.NewTimer(m.pingInt)
	m.teleT = c.clk.NewTimer(c.o.TelemetryInterval)
	return m
}

// markEstablished updates the status and connection info, and logs.
func (f *fsm) markEstablished(s *session, now time.Time) {
	c := f.c
	c.setStatus(func(st *device.CloudStatus) {
		st.ConnectedAt = now
		st.FailureReason = ""
		st.DeviceState = DevRequestSuccess
		st.ProcessState = ProcReceived
	})
	c.mu.Lock()
	c.conn = &connInfo{srv: s.srv, addr: s.addr.String(), connectedAt: now, sess: s}
	c.mu.Unlock()
	c.logEvent("CLOUD_ESTABLISHED", fmt.Sprintf("Cloud connection to %s established.", s.srv.Domain))
}

// greet sends the first frames: the sub-connection request, a keepalive
// and a ping.
func (m *mainConn) greet() ending {
	if err := m.w.write(wire.SubconnRequest(services)); err != nil {
		return lostSocket(err)
	}
	m.kaSeq++
	if err := m.w.write(wire.Keepalive(m.kaSeq)); err != nil {
		return lostSocket(err)
	}
	if err := m.w.ping(); err != nil {
		return lostSocket(err)
	}
	return ending{}
}

// onFrame dispatches one frame from the controller (exec frames went to
// the exec queue already).
func (m *mainConn) onFrame(fr wire.Frame) ending {
	switch fr.Type {
	case wire.TypeKeepaliveAck:
		m.ackSeen = true
		m.up.acked = true
		m.f.proveStable(&m.up)
	case wire.TypeSubconnURLs:
		if !m.subsStarted {
			m.subsStarted = true
			m.startSubs(fr.URLs)
		}
	case wire.TypeReregister:
		return ending{kind: endLost, r: Reason{ReasonReregister, "by controller"}, code: websocket.CloseNormalClosure}
	case wire.TypeReportAck:
		// report-ack belongs on sub-connections; ignored here.
	}
	return ending{}
}

// startSubs opens the sub-connection of each service the controller gave
// a usable URL for; a refused one is reported and skipped.
func (m *mainConn) startSubs(urls map[string]string) {
	c := m.c
	for _, svc := range services {
		raw, ok := urls[svc]
		if !ok {
			continue
		}
		u, err := url.Parse(raw)
		if err == nil && u.Host == "" {
			err = errors.New("no host")
		}
		if err == nil {
			err = c.checkWSScheme(u)
		}
		if err != nil {
			c.reportFailure(fmt.Sprintf("sub-connection %s refused (Details:%v)", svc, err))
			continue
		}
		m.wg.Add(1)
		go func() { defer m.wg.Done(); c.runSub(m.ctx, m.s, svc, u) }()
	}
}

// keepaliveTick counts a keepalive interval without an ack (3 end the
// connection) and sends the next keepalive.
func (m *mainConn) keepaliveTick() ending {
	m.missedKA = m.w.execs.missed(m.missedKA, m.ackSeen, &m.kaMark)
	m.ackSeen = false
	if m.missedKA >= 3 {
		return ending{kind: endLost, r: Reason{ReasonKeepalive, fmt.Sprintf("no keepalive-ack for %d intervals of %ds",
			m.missedKA, m.s.keepalive)}, code: websocket.CloseNormalClosure}
	}
	m.kaSeq++
	if err := m.w.write(wire.Keepalive(m.kaSeq)); err != nil {
		return lostSocket(err)
	}
	m.kaT.Reset(m.kaInt)
	return ending{}
}

// pingTick counts a ping without a pong (3 end the connection) and pings.
func (m *mainConn) pingTick() ending {
	m.missedPing = m.w.execs.missed(m.missedPing, m.w.pongSeen.Swap(false), &m.pingMark)
	if m.missedPing >= 3 {
		return ending{kind: endLost, r: Reason{ReasonPing, fmt.Sprintf("no pong for %d pings every %ds",
			m.missedPing, m.s.ping)}, code: websocket.CloseNormalClosure}
	}
	if err := m.w.ping(); err != nil {
		return lostSocket(err)
	}
	m.pingT.Reset(m.pingInt)
	return ending{}
}

// lost ends a connection the controller or the network broke. One that
// was not stable yet is a failed attempt at its server (flap.go); after a
// stable one the device tries the same server first, after 0–1 s.
func (m *mainConn) lost(r Reason, code int) (State, Reason) {
	f := m.f
	f.proveStable(&m.up)
	if !m.up.stable {
		// dropped right after establishment: a failed attempt
		m.finish(r, code, StateWaiting)
		return f.fail(flapReason(r))
	}
	// connected → down edge: same server first, after 0–1 s.
	f.jitter, f.tried = true, 0
	return m.finish(r, code, StateWaiting)
}

// finish tears the connection down for reason r (close code, 0 = none),
// records it as the last down reason and moves to next.
func (m *mainConn) finish(r Reason, code int, next State) (State, Reason) {
	c := m.c
	m.close(code, r.Kind.String())
	at := c.clk.Now()
	c.mu.Lock()
	c.conn = nil
	c.status.LastDownReason = r.String()
	c.status.LastDownAt = at
	c.status.ConnectedAt = time.Time{}
	c.mu.Unlock()
	c.logEvent("CLOUD_DOWN", fmt.Sprintf("Cloud connection to %s went down: %s.", m.s.srv.Domain, r))
	return next, r
}

// shutDown closes politely when the client stops, and records nothing.
func (m *mainConn) shutDown() (State, Reason) {
	c := m.c
	m.close(websocket.CloseGoingAway, "shutting down")
	c.mu.Lock()
	c.conn = nil
	c.status.ConnectedAt = time.Time{}
	c.mu.Unlock()
	return StateIdle, Reason{}
}

// close stops the timers, sends a Close frame (code 0: none), ends every
// goroutine of the connection and closes the session.
func (m *mainConn) close(code int, text string) {
	m.kaT.Stop()
	m.pingT.Stop()
	m.teleT.Stop()
	m.cancel()
	m.w.closeWith(code, text)
	m.wg.Wait()
	m.f.sess = nil
	m.s.close()
}

// maxExecOutput keeps an exec-result frame under the controller's 64 KiB
// read limit (JSON escaping can grow the text; we leave room for it).
const maxExecOutput = 48 << 10

const truncatedNote = "\n% Output truncated.\n"

func (c *Client) exec(ctx context.Context, lines []string) (string, bool) {
	if c.o.Exec == nil {
		return "% Remote execution is not available on this device.\n", false
	}
	out, ok := c.o.Exec(ctx, lines)
	limit := maxExecOutput
	for len(out) > maxExecOutput || len(wire.ExecResult(nil, out, ok)) > wire.MaxBody-1024 {
		n := min(len(out), limit-len(truncatedNote))
		for n > 0 && !utf8.RuneStart(out[n]) {
			n--
		}
		out = out[:n] + truncatedNote
		limit = limit * 3 / 4 // heavy JSON escaping: shrink further
	}
	return out, ok
}

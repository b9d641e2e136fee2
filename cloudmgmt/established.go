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

func (f *fsm) established(ctx context.Context) (State, Reason) {
	c := f.c
	s := f.sess
	now := c.clk.Now()
	// The backoff resets only once the connection is stable (flap.go).
	f.jitter = false
	up := uptime{since: now}
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

	w := &wsConn{ws: s.ws, c: c, main: true}
	connCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	frames := make(chan wire.Frame, 1) // the consumer is quick; each slot is ~180 B per connection
	rerr := make(chan error, 1)
	w.ws.SetPongHandler(func(string) error {
		w.pongSeen.Store(true)
		c.setStatus(func(st *device.CloudStatus) { st.ProcessState = ProcReceived })
		return nil
	})
	var ackSeen bool
	w.execs = c.newExecQueue(connCtx, w, &wg)
	wg.Add(1)
	go func() { defer wg.Done(); w.readFrames(connCtx, frames, rerr) }()

	kaInt := time.Duration(s.keepalive) * time.Second
	pingInt := time.Duration(s.ping) * time.Second
	kaT := c.clk.NewTimer(kaInt)
	pingT := c.clk.NewTimer(pingInt)
	teleT := c.clk.NewTimer(c.o.TelemetryInterval)
	var kaSeq uint64
	missedKA, missedPing := 0, 0
	var kaMark, pingMark uint64 // exec queue stalls seen at the last tick
	subsStarted := false

	finish := func(r Reason, code int, next State) (State, Reason) {
		kaT.Stop()
		pingT.Stop()
		teleT.Stop()
		cancel()
		w.closeWith(code, r.Kind.String())
		wg.Wait()
		f.sess = nil
		s.close()
		at := c.clk.Now()
		c.mu.Lock()
		c.conn = nil
		c.status.LastDownReason = r.String()
		c.status.LastDownAt = at
		c.status.ConnectedAt = time.Time{}
		c.mu.Unlock()
		c.logEvent("CLOUD_DOWN", fmt.Sprintf("Cloud connection to %s went down: %s.", s.srv.Domain, r))
		return next, r
	}
	lost := func(r Reason, code int) (State, Reason) {
		f.proveStable(&up)
		if !up.stable {
			// dropped right after establishment: a failed attempt
			finish(r, code, StateWaiting)
			return f.fail(flapReason(r))
		}
		// connected → down edge: same server first, after 0–1 s.
		f.jitter, f.tried = true, 0
		return finish(r, code, StateWaiting)
	}
	sendOrLose := func(b []byte) (bool, State, Reason) {
		if err := w.write(b); err != nil {
			st, r := lost(Reason{ReasonSocket, shortErr(err)}, 0)
			return false, st, r
		}
		return true, 0, Reason{}
	}

	if ok, st, r := sendOrLose(wire.SubconnRequest(services)); !ok {
		return st, r
	}
	kaSeq++
	if ok, st, r := sendOrLose(wire.Keepalive(kaSeq)); !ok {
		return st, r
	}
	if err := w.ping(); err != nil {
		return lost(Reason{ReasonSocket, shortErr(err)}, 0)
	}
	c.reportTelemetry()

	for {
		select {
		case <-ctx.Done():
			// Shutting down: close politely, record nothing.
			kaT.Stop()
			pingT.Stop()
			teleT.Stop()
			cancel()
			w.closeWith(websocket.CloseGoingAway, "shutting down")
			wg.Wait()
			f.sess = nil
			s.close()
			c.mu.Lock()
			c.conn = nil
			c.status.ConnectedAt = time.Time{}
			c.mu.Unlock()
			return StateIdle, Reason{}
		case <-c.wake:
			if leave, next, r := f.onWake(true); leave {
				return finish(r, websocket.CloseNormalClosure, next)
			}
		case err := <-rerr:
			r, code := classifyRead(err)
			return lost(r, code)
		case fr := <-frames:
			switch fr.Type {
			case wire.TypeKeepaliveAck:
				ackSeen = true
				up.acked = true
				f.proveStable(&up)
			case wire.TypeSubconnURLs:
				if subsStarted {
					continue
				}
				subsStarted = true
				for _, svc := range services {
					raw, ok := fr.URLs[svc]
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
					wg.Add(1)
					go func() { defer wg.Done(); c.runSub(connCtx, s, svc, u) }()
				}
			case wire.TypeReregister:
				return lost(Reason{ReasonReregister, "by controller"}, websocket.CloseNormalClosure)
			case wire.TypeReportAck:
				// report-ack belongs on sub-connections; ignored here.
			}
		case <-kaT.C():
			missedKA = w.execs.missed(missedKA, ackSeen, &kaMark)
			ackSeen = false
			if missedKA >= 3 {
				return lost(Reason{ReasonKeepalive, fmt.Sprintf("no keepalive-ack for %d intervals of %ds",
					missedKA, s.keepalive)}, websocket.CloseNormalClosure)
			}
			kaSeq++
			if ok, st, r := sendOrLose(wire.Keepalive(kaSeq)); !ok {
				return st, r
			}
			kaT.Reset(kaInt)
		case <-pingT.C():
			missedPing = w.execs.missed(missedPing, w.pongSeen.Swap(false), &pingMark)
			if missedPing >= 3 {
				return lost(Reason{ReasonPing, fmt.Sprintf("no pong for %d pings every %ds",
					missedPing, s.ping)}, websocket.CloseNormalClosure)
			}
			if err := w.ping(); err != nil {
				return lost(Reason{ReasonSocket, shortErr(err)}, 0)
			}
			pingT.Reset(pingInt)
		case <-teleT.C():
			c.reportTelemetry()
			teleT.Reset(c.o.TelemetryInterval)
		}
	}
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

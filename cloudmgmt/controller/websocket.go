package controller

// The WebSocket connections of a device (docs/protocol.md §3, §4): the main
// connection (keepalives, sub-connection URLs, exec results) and its
// sub-connections (reports).

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/shortstack"
)

// peer is one WebSocket with its write lock.
type peer struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	wait time.Duration // write deadline
}

// Write deadlines. A device reads its main connection only while its exec
// queue has room (docs/protocol.md §3), so a frame to it may wait for one
// exec's time limit (60 s) before TCP takes it: shorter, and a controller
// that pipelines execs would break its own connection (gorilla's write
// errors are final). Sub-connections are always read.
const (
	mainWriteWait = 60*time.Second + subWriteWait
	subWriteWait  = 10 * time.Second
)

// netDeadline is a socket deadline d from now. It is on the real clock, not
// Config.Now: net.Conn deadlines are absolute instants that the Go runtime's
// network poller compares with the real time, so an injected clock (a fake
// one is hours or years away, and stands still) would make every deadline
// already past or never due.
func netDeadline(d time.Duration) time.Time { return time.Now().Add(d) }

func (p *peer) write(mt int, b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.ws.SetWriteDeadline(netDeadline(p.wait))
	return p.ws.WriteMessage(mt, b)
}

// upgrade checks the token and session and upgrades; nil after an error answer.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, sub bool) (*token, *websocket.Conn) {
	t := s.bearerFor(r, sub)
	if t == nil || t.session != r.PathValue("session") {
		http.Error(w, "token unknown or expired", http.StatusUnauthorized)
		return nil, nil
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, nil
	}
	ws.SetReadLimit(wire.MaxBody)
	return t, ws
}

func (s *Server) deadline(d *device) time.Duration {
	n := max(d.keepalive, d.ping, 10)
	return time.Duration(3*n+10) * time.Second
}

// conn is one WebSocket connection attached to its device.
type conn struct {
	d    *device
	p    *peer
	t    *token
	svc  string        // the service of a sub-connection; "" on the main connection
	host string        // main: the Host the device connected to (sub-connection URLs)
	dl   time.Duration // read deadline, renewed by every frame and Ping
}

func (c conn) isMain() bool { return c.svc == "" }

// accept checks the token and upgrades r; then, unless the server is
// shutting down, it attaches the connection to its device with attach
// (under s.mu) and counts its reader in s.wg. False after an error answer.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, svc string, wait time.Duration,
	attach func(c conn)) (conn, bool) {
	t, ws := s.upgrade(w, r, svc != "")
	if ws == nil {
		return conn{}, false
	}
	c := conn{p: &peer{ws: ws, wait: wait}, t: t, svc: svc}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return conn{}, false
	}
	c.d = s.deviceLocked(t.serial)
	attach(c)
	c.dl = s.deadline(c.d)
	s.wg.Add(1)
	s.mu.Unlock()
	return c, true
}

func (s *Server) mainWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.faults.RefuseUpgrade
	s.mu.Unlock()
	if refuse {
		http.Error(w, "upgrade refused (fault injection)", http.StatusServiceUnavailable)
		return
	}
	var onConnect string
	c, ok := s.accept(w, r, "", mainWriteWait, func(c conn) {
		d := c.d
		d.mainSession = c.t.session
		if d.main != nil {
			d.main.ws.Close() // a new main connection replaces the old one
		}
		for _, sp := range d.subs {
			sp.ws.Close()
		}
		d.main = c.p
		d.connectedAt = s.now()
		d.remote = r.RemoteAddr
		d.sessions++
		onConnect = s.faults.OnConnect
	})
	if !ok {
		return
	}
	c.host = r.Host
	s.zl.Info("main connection", zap.String("serial", c.t.serial), zap.String("remote", r.RemoteAddr))
	if onConnect != "" {
		// before the reader starts: nothing is answered ahead of it
		s.inject(c.p, onConnect)
	}
	go s.serve(c)
}

func (s *Server) subWS(w http.ResponseWriter, r *http.Request) {
	svc := r.PathValue("service")
	if !contains(s.cfg.Services, svc) {
		http.Error(w, "unknown service", http.StatusNotFound)
		return
	}
	c, ok := s.accept(w, r, svc, subWriteWait, func(c conn) {
		if old := c.d.subs[svc]; old != nil {
			old.ws.Close()
		}
		c.d.subs[svc] = c.p
	})
	if ok {
		go s.serve(c)
	}
}

// serve is a connection's reader (its goroutine: the waiting reader's stack
// stays shallow). Every frame is handled on a short-lived goroutine;
// pongs are dropped on the main connection when the fault says so.
func (s *Server) serve(c conn) {
	defer s.wg.Done()
	drop := func() bool { return false }
	if c.isMain() {
		drop = s.dropPongs
	}
	answerPings(c.p, c.dl, drop)
	defer s.detach(c)
	ws := c.p.ws
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(netDeadline(c.dl))
		keep := false
		// decoding and answering need a deeper stack than the waiting
		// reader: keep that off the connection's goroutine
		shortstack.Do(func() { keep = s.frame(c, mt, data) })
		if !keep {
			return
		}
	}
}

func (s *Server) dropPongs() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.DropPongs
}

// frame handles one frame of c; false ends the connection.
func (s *Server) frame(c conn, mt int, data []byte) bool {
	if c.isMain() {
		return s.mainFrame(c, mt, data)
	}
	return s.subFrame(c, mt, data)
}

// detach closes c and takes it off its device, unless a newer connection
// replaced it already. An ended main connection fails the execs waiting
// for an answer on it.
func (s *Server) detach(c conn) {
	c.p.ws.Close()
	d, p := c.d, c.p
	s.mu.Lock()
	if !c.isMain() {
		if d.subs[c.svc] == p {
			delete(d.subs, c.svc)
		}
		s.mu.Unlock()
		return
	}
	if d.main == p {
		d.main = nil
		for _, w := range d.waiters {
			select {
			case w <- ExecResult{Output: "connection closed", OK: false}:
			default:
			}
		}
	}
	if d.flood != nil && d.flood.p == p {
		d.flood.end("connection closed")
	}
	s.mu.Unlock()
	s.zl.Info("main connection closed", zap.String("serial", d.serial))
}

// answerPings arms the read deadline dl and renews it on every Ping, which
// is answered with a Pong unless drop says otherwise (fault injection). The
// Pong may wait behind a data frame as long as any write (p.wait).
func answerPings(p *peer, dl time.Duration, drop func() bool) {
	ws := p.ws
	ws.SetReadDeadline(netDeadline(dl))
	ws.SetPingHandler(func(data string) error {
		ws.SetReadDeadline(netDeadline(dl))
		if drop() {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), netDeadline(p.wait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
}

// mainFrame handles one frame of a main connection; false ends it.
func (s *Server) mainFrame(c conn, mt int, data []byte) bool {
	d, p := c.d, c.p
	if mt != websocket.TextMessage {
		closeWith(p, websocket.CloseUnsupportedData, "binary frame")
		return false
	}
	f, err := wire.DecodeFrame(data, wire.ToController)
	if err != nil {
		closeWith(p, websocket.CloseProtocolError, err.Error())
		return false
	}
	switch f.Type {
	case wire.TypeKeepalive:
		s.mu.Lock()
		d.keepalives++
		d.lastKASeq = f.Seq
		drop := s.faults.DropKeepaliveAcks
		s.mu.Unlock()
		if !drop {
			p.write(websocket.TextMessage, wire.KeepaliveAck(f.Seq))
		}
	case wire.TypeSubconnRequest:
		p.write(websocket.TextMessage, wire.SubconnURLs(s.subconnURLs(c, f.Services)))
	case wire.TypeExecResult:
		s.execResult(d, f)
	default:
		closeWith(p, websocket.CloseProtocolError, "unexpected "+f.Type)
		return false
	}
	return true
}

// wsScheme is the scheme of the WebSocket URLs handed out.
func (s *Server) wsScheme() string {
	if s.cfg.Plain {
		return "ws"
	}
	return "wss"
}

// subconnURLs answers a subconn-request of c for services: a URL for each
// one served (none when the fault says so).
func (s *Server) subconnURLs(c conn, services []string) map[string]string {
	urls := map[string]string{}
	s.mu.Lock()
	none := s.faults.NoSubconn
	s.mu.Unlock()
	scheme := s.wsScheme()
	for _, svc := range services {
		if !none && contains(s.cfg.Services, svc) {
			urls[svc] = scheme + "://" + c.host + wire.PathSub + svc + "/" + c.t.session
		}
	}
	return urls
}

// execResult hands an exec-result to the flood or the Exec waiting for it.
func (s *Server) execResult(d *device, f wire.Frame) {
	var id string
	json.Unmarshal(f.ID, &id)
	s.mu.Lock()
	if d.flood != nil && d.flood.answer(id, f.Output, f.OK, s.now()) {
		s.mu.Unlock()
		return
	}
	wch := d.waiters[id]
	delete(d.waiters, id)
	s.mu.Unlock()
	if wch != nil {
		wch <- ExecResult{Output: f.Output, OK: f.OK}
	}
}

func closeWith(p *peer, code int, text string) {
	if len(text) > 100 {
		text = text[:100]
	}
	p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		netDeadline(time.Second))
}

// subFrame handles one frame of a sub-connection (a report); false ends it.
func (s *Server) subFrame(c conn, mt int, data []byte) bool {
	d, p, svc := c.d, c.p, c.svc
	if mt != websocket.TextMessage {
		closeWith(p, websocket.CloseUnsupportedData, "binary frame")
		return false
	}
	f, err := wire.DecodeFrame(data, wire.ToController)
	if err != nil || f.Type != wire.TypeReport || f.Service != svc {
		closeWith(p, websocket.CloseProtocolError, "expected a report for "+svc)
		return false
	}
	s.mu.Lock()
	rl := d.reports[svc]
	if rl == nil {
		rl = &reportLog{}
		d.reports[svc] = rl
	}
	if f.Seq > rl.LastSeq {
		rl.LastSeq = f.Seq
		rl.Received++
		rl.Reports = append(rl.Reports, Report{Seq: f.Seq, Time: f.Time, Data: f.Data})
		if over := len(rl.Reports) - s.cfg.KeepReports; over > 0 {
			rl.Reports = append([]Report(nil), rl.Reports[over:]...)
		}
	} else {
		rl.Duplicates++
	}
	ack := rl.LastSeq
	drop := s.faults.DropReportAcks
	s.mu.Unlock()
	if !drop {
		p.write(websocket.TextMessage, wire.ReportAck(ack))
	}
	return true
}

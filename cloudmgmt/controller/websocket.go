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

func (s *Server) mainWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.faults.RefuseUpgrade
	s.mu.Unlock()
	if refuse {
		http.Error(w, "upgrade refused (fault injection)", http.StatusServiceUnavailable)
		return
	}
	t, ws := s.upgrade(w, r, false)
	if ws == nil {
		return
	}
	p := &peer{ws: ws, wait: mainWriteWait}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	d := s.deviceLocked(t.serial)
	d.mainSession = t.session
	if d.main != nil {
		d.main.ws.Close() // a new main connection replaces the old one
	}
	for _, sp := range d.subs {
		sp.ws.Close()
	}
	d.main = p
	d.connectedAt = s.now()
	d.remote = r.RemoteAddr
	d.sessions++
	onConnect := s.faults.OnConnect
	dl := s.deadline(d)
	s.wg.Add(1)
	s.mu.Unlock()
	s.zl.Info("main connection", zap.String("serial", t.serial), zap.String("remote", r.RemoteAddr))
	if onConnect != "" {
		// before the reader starts: nothing is answered ahead of it
		s.inject(p, onConnect)
	}
	go s.mainLoop(d, p, t, r.Host, dl)
}

func (s *Server) mainLoop(d *device, p *peer, t *token, host string, dl time.Duration) {
	defer s.wg.Done()
	ws := p.ws
	answerPings(p, dl, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.faults.DropPongs
	})
	defer func() {
		ws.Close()
		s.mu.Lock()
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
	}()
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(netDeadline(dl))
		keep := false
		// decoding and answering need a deeper stack than the waiting
		// reader: keep that off the connection's goroutine
		shortstack.Do(func() { keep = s.mainFrame(d, p, t, host, mt, data) })
		if !keep {
			return
		}
	}
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
func (s *Server) mainFrame(d *device, p *peer, t *token, host string, mt int, data []byte) bool {
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
		urls := map[string]string{}
		s.mu.Lock()
		none := s.faults.NoSubconn
		s.mu.Unlock()
		scheme := "wss"
		if s.cfg.Plain {
			scheme = "ws"
		}
		for _, svc := range f.Services {
			if !none && contains(s.cfg.Services, svc) {
				urls[svc] = scheme + "://" + host + wire.PathSub + svc + "/" + t.session
			}
		}
		p.write(websocket.TextMessage, wire.SubconnURLs(urls))
	case wire.TypeExecResult:
		var id string
		json.Unmarshal(f.ID, &id)
		s.mu.Lock()
		if d.flood != nil && d.flood.answer(id, f.Output, f.OK, s.now()) {
			s.mu.Unlock()
			break
		}
		wch := d.waiters[id]
		delete(d.waiters, id)
		s.mu.Unlock()
		if wch != nil {
			wch <- ExecResult{Output: f.Output, OK: f.OK}
		}
	default:
		closeWith(p, websocket.CloseProtocolError, "unexpected "+f.Type)
		return false
	}
	return true
}

func closeWith(p *peer, code int, text string) {
	if len(text) > 100 {
		text = text[:100]
	}
	p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		netDeadline(time.Second))
}

func (s *Server) subWS(w http.ResponseWriter, r *http.Request) {
	svc := r.PathValue("service")
	if !contains(s.cfg.Services, svc) {
		http.Error(w, "unknown service", http.StatusNotFound)
		return
	}
	t, ws := s.upgrade(w, r, true)
	if ws == nil {
		return
	}
	p := &peer{ws: ws, wait: subWriteWait}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	d := s.deviceLocked(t.serial)
	if old := d.subs[svc]; old != nil {
		old.ws.Close()
	}
	d.subs[svc] = p
	dl := s.deadline(d)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.subLoop(d, p, svc, dl)
}

func (s *Server) subLoop(d *device, p *peer, svc string, dl time.Duration) {
	defer s.wg.Done()
	ws := p.ws
	answerPings(p, dl, func() bool { return false })
	defer func() {
		ws.Close()
		s.mu.Lock()
		if d.subs[svc] == p {
			delete(d.subs, svc)
		}
		s.mu.Unlock()
	}()
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		ws.SetReadDeadline(netDeadline(dl))
		keep := false
		shortstack.Do(func() { keep = s.subFrame(d, p, svc, mt, data) })
		if !keep {
			return
		}
	}
}

// subFrame handles one frame of a sub-connection (a report); false ends it.
func (s *Server) subFrame(d *device, p *peer, svc string, mt int, data []byte) bool {
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

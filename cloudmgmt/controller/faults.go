package controller

// Fault injection: misbehaviours switched through the admin endpoint, for
// tests of the device's side of every failure.

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// Faults are injected misbehaviours, switched through the admin endpoint.
type Faults struct {
	DropKeepaliveAcks bool   `json:"drop_keepalive_acks"`
	DropPongs         bool   `json:"drop_pongs"`
	DropReportAcks    bool   `json:"drop_report_acks"`
	RefuseUpgrade     bool   `json:"refuse_upgrade"`  // main upgrade answered 503
	RejectAuth        int    `json:"reject_auth"`     // answer every auth with this status (0 = off)
	RejectRegister    int    `json:"reject_register"` // same for register
	SilentAccept      bool   `json:"silent_accept"`   // accept TCP, never answer
	MainURLScheme     string `json:"main_url_scheme"` // e.g. "ws": hand out a wrong scheme
	NoSubconn         bool   `json:"no_subconn"`      // answer subconn-request with no URLs
	// OnConnect injects this kind right after each upgrade, before the
	// connection's first frame is read: no keepalive-ack precedes it, so a
	// device sees the connection break before it is stable.
	OnConnect string `json:"on_connect"`
}

// Inject kinds for Inject and Faults.OnConnect.
var InjectKinds = []string{"malformed", "unknown-type", "oversize", "oversize-8mib", "binary", "reregister",
	"close", "missing-field", "close-subs"}

// holdListener implements the silent-accept fault: while it is on, accepted
// connections are held open and never answered.
type holdListener struct {
	net.Listener
	s *Server
}

func (h *holdListener) Accept() (net.Conn, error) {
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			return nil, err
		}
		h.s.mu.Lock()
		if h.s.faults.SilentAccept && !h.s.closed {
			h.s.held = append(h.s.held, c)
			h.s.mu.Unlock()
			continue
		}
		h.s.mu.Unlock()
		return c, nil
	}
}

// inject sends one misbehaviour to a connection.
func (s *Server) inject(p *peer, kind string) error {
	switch kind {
	case "malformed":
		return p.write(websocket.TextMessage, []byte(`{"type":"keepalive-ack","seq":`))
	case "unknown-type":
		return p.write(websocket.TextMessage, []byte(`{"type":"no-such-type"}`))
	case "missing-field":
		return p.write(websocket.TextMessage, []byte(`{"type":"keepalive-ack"}`))
	case "oversize":
		big := `{"type":"keepalive-ack","seq":1,"pad":"` + strings.Repeat("x", wire.MaxBody) + `"}`
		return p.write(websocket.TextMessage, []byte(big))
	case "oversize-8mib":
		return p.write(websocket.TextMessage, frame8MiB())
	case "binary":
		return p.write(websocket.BinaryMessage, []byte{1, 2, 3})
	case "reregister":
		return p.write(websocket.TextMessage, wire.Reregister())
	case "close":
		closeWith(p, websocket.CloseGoingAway, "closed by operator")
		return p.ws.Close()
	}
	return fmt.Errorf("unknown inject kind %q (one of %s)", kind, strings.Join(InjectKinds, ", "))
}

// frame8MiB is an 8 MiB text frame, made once: a controller that sends it
// on every connection must not allocate 8 MiB each time.
var frame8MiB = sync.OnceValue(func() []byte {
	const size = 8 << 20
	head := `{"type":"keepalive-ack","seq":1,"pad":"`
	b := []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
	return b
})

// Inject sends kind to the main connection of serial ("" = every device).
func (s *Server) Inject(serial, kind string) error {
	if !contains(InjectKinds, kind) {
		return fmt.Errorf("unknown inject kind %q (one of %s)", kind, strings.Join(InjectKinds, ", "))
	}
	var peers []*peer
	s.mu.Lock()
	for sn, d := range s.devices {
		if (serial == "" || sn == serial) && d.main != nil {
			if kind == "close-subs" {
				for _, p := range d.subs {
					p.ws.Close()
				}
				peers = append(peers, nil)
				continue
			}
			peers = append(peers, d.main)
		}
	}
	s.mu.Unlock()
	if len(peers) == 0 {
		return errors.New("no such connected device")
	}
	if kind == "close-subs" {
		return nil
	}
	for _, p := range peers {
		s.inject(p, kind)
	}
	return nil
}

// CloseDevice closes serial's connections ("" = every device).
func (s *Server) CloseDevice(serial string) error { return s.Inject(serial, "close") }

// SetFaults replaces the fault set. Turning SilentAccept off closes the
// held connections.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	if !f.SilentAccept {
		for _, c := range s.held {
			c.Close()
		}
		s.held = nil
	}
	s.mu.Unlock()
}

// Faults returns the current fault set.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

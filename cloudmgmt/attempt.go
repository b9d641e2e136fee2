package cloudmgmt

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/device"
)

// session is one attempt at one server: the resolved address, the TLS
// settings, the token and the main connection. Nothing in it outlives the
// connection (protocol §2: the main URL is never stored).
type session struct {
	c               *Client
	srv             server
	addr            netip.Addr
	res             *resolver
	mu              sync.Mutex
	hc              *httpConn // auth/register connection; nil once taken or closed
	token           string
	mainURL         *url.URL
	ws              *websocket.Conn
	keepalive, ping int
	reauthed        bool
	retryAfter      time.Duration // of the last answer (503 + Retry-After)
}

func (f *fsm) closeSession() {
	if f.sess == nil {
		return
	}
	f.sess.close()
	f.sess = nil
}

func (s *session) close() {
	s.dropHTTP()
	if s.ws != nil {
		s.ws.Close()
	}
}

// dropHTTP closes the auth/register connection, if any.
func (s *session) dropHTTP() {
	s.mu.Lock()
	h := s.hc
	s.hc = nil
	s.mu.Unlock()
	if h != nil {
		h.close()
	}
}

// takeHTTP hands the auth/register connection over for the upgrade of u when
// u names the server it is connected to (same host, port and security);
// otherwise it closes it and returns nil.
func (s *session) takeHTTP(u *url.URL) net.Conn {
	wantScheme := "wss"
	if s.c.o.LabPlainWS {
		wantScheme = "ws"
	}
	if u.Scheme != wantScheme || !sameDomain(u.Hostname(), s.srv.Domain) || u.Port() != strconv.Itoa(s.srv.Port) {
		s.dropHTTP()
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hc == nil {
		return nil
	}
	conn := s.hc.conn
	s.hc = nil
	return conn
}

func (c *Client) tlsConfig(serverName string) *tls.Config {
	return &tls.Config{
		ServerName:         serverName,
		RootCAs:            c.o.RootCAs,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: c.o.InsecureSkipVerify,
		NextProtos:         []string{"http/1.1"},
		// Each attempt opens several TLS connections to one server (auth,
		// register, main, subs); resuming saves a full handshake on each.
		ClientSessionCache: c.tlsSessions,
	}
}

// wsWriteBuffers is shared by all connections: an idle connection then
// holds no write buffer (what the controller does too; engineering notes).
var wsWriteBuffers = &sync.Pool{}

// dial opens TCP (and TLS unless lab mode) to addr:port verifying serverName.
func (c *Client) dial(ctx context.Context, addr netip.Addr, port int, serverName string, useTLS bool) (net.Conn, error) {
	return c.dialPhase(ctx, addr, port, serverName, useTLS, nil)
}

func (c *Client) dialPhase(ctx context.Context, addr netip.Addr, port int, serverName string, useTLS bool, tcpUp *atomic.Bool) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	if tcpUp != nil {
		tcpUp.Store(true)
	}
	if !useTLS {
		return conn, nil
	}
	tc := tls.Client(conn, c.tlsConfig(serverName))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// classifyDial turns a dial error into a failure reason.
func classifyDial(err error) Reason {
	if errors.Is(err, errStepTimeout) {
		return Reason{ReasonTCP, "timed out"}
	}
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ue), errors.As(err, &he), errors.As(err, &ce):
		return Reason{ReasonTLSUntrusted, err.Error()}
	case errors.As(err, &ve):
		return Reason{ReasonTLSUntrusted, ve.Err.Error()}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return Reason{ReasonTCP, shortErr(err)}
	}
	return Reason{ReasonTLS, shortErr(err)}
}

func (f *fsm) resolving(ctx context.Context) (State, Reason) {
	c := f.c
	srv := f.list[f.idx]
	g := c.snapshotGoal()
	s := &session{c: c, srv: srv, res: c.newResolver(g), keepalive: g.cloud.Keepalive, ping: g.cloud.Ping}
	if s.keepalive <= 0 {
		s.keepalive = 180
	}
	if s.ping <= 0 {
		s.ping = 60
	}
	f.sess = s
	f.lookAhead(ctx, s.res)
	var addr netip.Addr
	// every DNS server may cost its own time-out (twice with the TCP retry)
	timeout := c.o.StepTimeout + 2*c.o.DNSTimeout*time.Duration(len(s.res.servers)+3)
	leave, next, err := f.stepT(ctx, timeout, func(ctx context.Context) error {
		a, err := s.res.resolve(ctx, srv.Domain)
		addr = a
		return err
	})
	if leave {
		return next, Reason{}
	}
	if err != nil {
		if errors.Is(err, errStepTimeout) {
			err = errors.New("timed out")
		}
		return f.fail(Reason{ReasonDNS, err.Error()})
	}
	s.addr = addr
	c.setStatus(func(st *device.CloudStatus) { st.ServerAddress = addr.String() })
	return StateConnecting, Reason{}
}

// lookAhead resolves, beside this attempt, the name of the server the pass
// tries next: should this attempt fail, that lookup has overlapped its
// round trips instead of following them (primary lost → backup).
func (f *fsm) lookAhead(ctx context.Context, res *resolver) {
	if f.tried+1 >= len(f.list) {
		return // the pass ends with this server
	}
	next := f.list[(f.idx+1)%len(f.list)]
	if !sameDomain(next.Domain, f.list[f.idx].Domain) {
		res.lookAhead(ctx, f.bg, next.Domain)
	}
}

func (f *fsm) connecting(ctx context.Context) (State, Reason) {
	c := f.c
	s := f.sess
	if h := f.takeParked(s.srv, s.addr); h != nil {
		s.mu.Lock()
		s.hc = h
		s.mu.Unlock()
		return StateAuthenticating, Reason{}
	}
	var conn net.Conn
	var tcpUp atomic.Bool
	leave, next, err := f.step(ctx, func(ctx context.Context) error {
		var err error
		conn, err = c.dialPhase(ctx, s.addr, s.srv.Port, s.srv.Domain, !c.o.LabPlainWS, &tcpUp)
		return err
	})
	if leave {
		if conn != nil {
			conn.Close()
		}
		return next, Reason{}
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		r := classifyDial(err)
		if errors.Is(err, errStepTimeout) && tcpUp.Load() && !c.o.LabPlainWS {
			r = Reason{ReasonTLS, "timed out"}
		}
		return f.fail(r)
	}
	s.mu.Lock()
	s.hc = newHTTPConn(conn)
	s.mu.Unlock()
	return StateAuthenticating, Reason{}
}

func (s *session) baseURL() string {
	scheme := "https"
	if s.c.o.LabPlainWS {
		scheme = "http"
	}
	return scheme + "://" + net.JoinHostPort(s.srv.Domain, strconv.Itoa(s.srv.Port))
}

func (s *session) postQuiet(ctx context.Context, path string, body any) (int, []byte, error) {
	return s.do(ctx, path, body, "", false)
}

// post sends one JSON request and returns status and body (≤ 64 KiB).
func (s *session) post(ctx context.Context, path string, body any, bearer string) (int, []byte, error) {
	return s.do(ctx, path, body, bearer, true)
}

func (s *session) do(ctx context.Context, path string, body any, bearer string, track bool) (int, []byte, error) {
	setProc := func(p string) {
		if track {
			s.c.setStatus(func(st *device.CloudStatus) { st.ProcessState = p })
		}
	}
	b, _ := json.Marshal(body)
	setProc(ProcSent)
	s.c.debugHTTP("Sent", "HTTP POST "+path+" to "+s.srv.Domain, b) // body only: never the Authorization header
	code, data, err := s.roundTrip(ctx, path, b, bearer)
	if err != nil {
		s.c.debugf(DebugPacket, "HTTP POST %s to %s failed: %s", path, s.srv.Domain, stepErr(err))
		return 0, nil, err
	}
	setProc(ProcReceived)
	s.c.debugHTTP("Received", fmt.Sprintf("HTTP %d for POST %s from %s", code, path, s.srv.Domain), data)
	if len(data) > wire.MaxBody {
		return code, nil, fmt.Errorf("response body over 64 KiB")
	}
	return code, data, nil
}

// roundTrip posts body on the session's HTTP connection, dialling one when
// there is none. A request that finds a kept connection closed by the
// server before any answer goes once more on a new connection (what
// net/http does for a request it has not seen answered).
func (s *session) roundTrip(ctx context.Context, path string, body []byte, bearer string) (int, []byte, error) {
	for try := 0; ; try++ {
		s.mu.Lock()
		h := s.hc
		s.mu.Unlock()
		if h == nil {
			conn, err := s.c.dial(ctx, s.addr, s.srv.Port, s.srv.Domain, !s.c.o.LabPlainWS)
			if err != nil {
				return 0, nil, err
			}
			h = newHTTPConn(conn)
			s.mu.Lock()
			s.hc = h
			s.mu.Unlock()
		}
		reused := h.used
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL()+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", s.c.o.UserAgent)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		ans, keep, err := h.roundTrip(ctx, req, s.c.clk.Now)
		if err != nil || !keep {
			s.dropHTTP()
		}
		if err != nil && reused && try == 0 && errors.Is(err, errNoResponse) && ctx.Err() == nil {
			continue
		}
		s.retryAfter = ans.retryAfter
		return ans.code, ans.body, err
	}
}

func stepErr(err error) string {
	if errors.Is(err, errStepTimeout) {
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return shortErr(err)
}

func (f *fsm) authenticating(ctx context.Context) (State, Reason) {
	c := f.c
	s := f.sess
	req := wire.AuthRequest{Serial: c.o.Serial, Model: c.o.Model, MAC: c.o.MAC,
		Sysname: c.o.Sysname(), Software: c.o.Software}
	var code int
	var body []byte
	leave, next, err := f.step(ctx, func(ctx context.Context) error {
		var err error
		code, body, err = s.post(ctx, wire.PathAuth, req, "")
		return err
	})
	if leave {
		return next, Reason{}
	}
	if err != nil {
		return f.fail(Reason{ReasonAuth, stepErr(err)})
	}
	var ar wire.AuthResponse
	switch code {
	case http.StatusOK:
		if err := wire.DecodeBody(body, &ar, "result", "token"); err != nil {
			return f.fail(Reason{ReasonAuth, "protocol error: " + err.Error()})
		}
		if ar.Result != wire.ResultSuccess || ar.Token == "" {
			return f.fail(Reason{ReasonAuth, "protocol error: result " + ar.Result})
		}
		s.token = ar.Token
		c.setStatus(func(st *device.CloudStatus) { st.DeviceState = DevRequestSuccess })
		return StateRegistering, Reason{}
	case http.StatusForbidden, http.StatusConflict:
		dev, want := DevRequestFailure, wire.ReasonSerialUnknown
		if code == http.StatusConflict {
			dev, want = DevBoundElsewhere, wire.ReasonBoundElsewhere
		}
		reason := want
		if wire.DecodeBody(body, &ar, "result", "reason") == nil && ar.Reason != "" {
			reason = ar.Reason
		}
		return f.failDev(dev, Reason{ReasonAuth, reason})
	default:
		return f.failBusy(s, ReasonAuth, code)
	}
}

// failBusy is a failed attempt on an HTTP status; a 503 with Retry-After
// (a controller admitting sessions at a limited rate) also sets the wait
// after this pass (docs/protocol.md, "busy").
func (f *fsm) failBusy(s *session, kind ReasonKind, code int) (State, Reason) {
	if code != http.StatusServiceUnavailable || s.retryAfter <= 0 {
		return f.fail(Reason{kind, fmt.Sprintf("HTTP %d", code)})
	}
	if f.retryAfter == 0 || s.retryAfter < f.retryAfter {
		f.retryAfter = s.retryAfter
	}
	f.park(s)
	return f.fail(Reason{kind, fmt.Sprintf("HTTP 503, server busy, retry after %d s", int(s.retryAfter/time.Second))})
}

func (f *fsm) registering(ctx context.Context) (State, Reason) {
	c := f.c
	s := f.sess
	req := wire.RegisterRequest{Serial: c.o.Serial, Keepalive: s.keepalive, Ping: s.ping}
	var code int
	var body []byte
	regFail := func(d string) (State, Reason) {
		return f.failDev(DevRegisterFailure, Reason{ReasonRegister, d})
	}
	leave, next, err := f.step(ctx, func(ctx context.Context) error {
		var err error
		code, body, err = s.post(ctx, wire.PathRegister, req, s.token)
		return err
	})
	if leave {
		return next, Reason{}
	}
	if err != nil {
		return regFail(stepErr(err))
	}
	if code == http.StatusUnauthorized && !s.reauthed {
		// §2: token unknown or expired → §1 again on the same server, once.
		s.reauthed = true
		return StateAuthenticating, Reason{ReasonRegister, "token rejected"}
	}
	if code == http.StatusServiceUnavailable && s.retryAfter > 0 {
		return f.failBusy(s, ReasonRegister, code)
	}
	if code != http.StatusOK {
		return regFail(fmt.Sprintf("HTTP %d", code))
	}
	var rr wire.RegisterResponse
	if err := wire.DecodeBody(body, &rr, "result", "main_url"); err != nil {
		return regFail("protocol error: " + err.Error())
	}
	if rr.Result != wire.ResultSuccess {
		return regFail("protocol error: result " + rr.Result)
	}
	u, err := url.Parse(rr.MainURL)
	if err != nil || u.Host == "" {
		return regFail("protocol error: bad main_url")
	}
	if err := c.checkWSScheme(u); err != nil {
		return regFail(err.Error())
	}
	s.mainURL = u
	return StateUpgrading, Reason{}
}

func (c *Client) checkWSScheme(u *url.URL) error {
	switch {
	case u.Scheme == "wss":
		return nil
	case u.Scheme == "ws" && c.o.LabPlainWS:
		return nil
	}
	return fmt.Errorf("%s:// URL refused, wss:// required", u.Scheme)
}

// dialWS upgrades rawURL with the session's token and trust settings. When
// the URL's host is the server domain, the address already resolved is used;
// otherwise the host is resolved the same way.
func (s *session) dialWS(ctx context.Context, u *url.URL) (*websocket.Conn, error) {
	return s.dialWSOn(ctx, u, nil)
}

// dialWSOn is dialWS on an open connection (the auth/register one) when
// conn is not nil; if that connection turns out closed before any answer,
// the upgrade goes once more on a new one.
func (s *session) dialWSOn(ctx context.Context, u *url.URL, conn net.Conn) (*websocket.Conn, error) {
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "ws" {
			port = "80"
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("bad port in %s", u.Redacted())
	}
	addr := s.addr
	if !sameDomain(host, s.srv.Domain) {
		if addr, err = s.res.resolve(ctx, host); err != nil {
			return nil, fmt.Errorf("resolving %s: %v", host, err)
		}
	}
	useTLS := u.Scheme == "wss"
	// gorilla's dialer heeds ctx only until the connection is made: the
	// upgrade's request and answer would outlast a step time-out or the
	// end of the attempt, and the teardown that waits for them (a reset,
	// the main connection lost, a server that never answers). An ended
	// ctx expires the connection's deadline instead, as roundTrip does.
	var stop func() bool
	netDial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		c := conn
		conn = nil
		if c == nil {
			var err error
			if c, err = s.c.dial(ctx, addr, p, host, useTLS); err != nil {
				return nil, err
			}
		}
		if stop != nil {
			stop()
		}
		stop = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
		return c, nil
	}
	d := websocket.Dialer{
		NetDialContext:    netDial,
		NetDialTLSContext: netDial,
		Subprotocols:      []string{wire.Subprotocol},
		ReadBufferSize:    256, // I/O buffer only: larger frames are read through it; the controller sends small frames, and an idle connection keeps this buffer
		WriteBufferSize:   1024,
		WriteBufferPool:   wsWriteBuffers,
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+s.token)
	h.Set("User-Agent", s.c.o.UserAgent)
	h.Set("Content-Type", "application/json") // §0: every HTTP request
	s.c.debugf(DebugPacket, "Sent WebSocket upgrade request for %s", redactURL(u.String()))
	reused := conn != nil
	ws, resp, err := d.DialContext(ctx, u.String(), h)
	if conn != nil {
		conn.Close() // the dialer failed before it asked for a connection
		conn = nil
	}
	if err != nil && resp == nil && reused && ctx.Err() == nil {
		ws, resp, err = d.DialContext(ctx, u.String(), h)
	}
	if stop != nil && !stop() && err == nil {
		// ctx ended as the upgrade succeeded: the deadline is spent
		ws.Close()
		return nil, context.Cause(ctx)
	}
	if resp != nil {
		s.c.debugf(DebugPacket, "Received HTTP %d for the WebSocket upgrade of %s", resp.StatusCode, redactURL(u.String()))
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	if ws.Subprotocol() != wire.Subprotocol {
		ws.Close()
		return nil, fmt.Errorf("protocol error: subprotocol %q not %s", ws.Subprotocol(), wire.Subprotocol)
	}
	ws.SetReadLimit(wire.MaxBody)
	return ws, nil
}

func (f *fsm) upgrading(ctx context.Context) (State, Reason) {
	s := f.sess
	var ws *websocket.Conn
	conn := s.takeHTTP(s.mainURL)
	leave, next, err := f.step(ctx, func(ctx context.Context) error {
		var err error
		ws, err = s.dialWSOn(ctx, s.mainURL, conn)
		return err
	})
	if leave {
		if ws != nil {
			ws.Close()
		}
		return next, Reason{}
	}
	if err != nil {
		if ws != nil {
			ws.Close()
		}
		r := classifyDial(err)
		if r.Kind == ReasonTLS || r.Kind == ReasonTCP {
			r = Reason{ReasonUpgrade, stepErr(err)}
		}
		return f.fail(r)
	}
	s.ws = ws
	return StateEstablished, Reason{}
}

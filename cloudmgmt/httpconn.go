package cloudmgmt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// httpConn is the one HTTP/1.1 connection of an attempt. Authentication,
// registration and, when main_url names the same host and port, the main
// WebSocket upgrade all travel on it: one TLS handshake instead of two
// (the upgrade used to dial again), and a handshake is most of what a
// connection costs both sides (bench/README.md).
// net/http's Transport would pool connections and hide which one a request
// used, so the attempt writes and reads its requests itself.
type httpConn struct {
	conn net.Conn
	br   *bufio.Reader
	used bool // a request went over it: the server may have closed it since
}

func newHTTPConn(conn net.Conn) *httpConn {
	return &httpConn{conn: conn, br: bufio.NewReaderSize(conn, 1024)}
}

// errNoResponse marks a failure before any byte of the answer: on a reused
// connection that is the server having closed it while idle, and the
// request may go again on a new connection.
var errNoResponse = errors.New("connection closed before the answer")

// roundTrip sends req and reads the answer's status and body (at most
// wire.MaxBody+1 bytes, so an oversized body is seen). The connection stays
// usable only when the answer was read whole and the server keeps it open.
// now dates an HTTP-date Retry-After.
func (h *httpConn) roundTrip(ctx context.Context, req *http.Request, now func() time.Time) (ans answer, keep bool, err error) {
	stop := context.AfterFunc(ctx, func() { h.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	h.used = true
	if err := req.Write(h.conn); err != nil {
		return answer{}, false, ctxErr(ctx, fmt.Errorf("%w: %w", errNoResponse, err))
	}
	if _, err := h.br.Peek(1); err != nil {
		return answer{}, false, ctxErr(ctx, fmt.Errorf("%w: %w", errNoResponse, err))
	}
	resp, err := http.ReadResponse(h.br, req)
	if err != nil {
		return answer{}, false, ctxErr(ctx, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxBody+1))
	if err != nil {
		return answer{}, false, ctxErr(ctx, err)
	}
	// a body we did not read to its end leaves the stream mid-message
	_, rest := resp.Body.Read(make([]byte, 1))
	keep = errors.Is(rest, io.EOF) && !resp.Close && h.br.Buffered() == 0
	resp.Body.Close()
	ans = answer{code: resp.StatusCode, body: body}
	if resp.StatusCode == http.StatusServiceUnavailable {
		ans.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now())
	}
	return ans, keep, nil
}

// answer is what the attempt uses of an HTTP response.
type answer struct {
	code       int
	body       []byte
	retryAfter time.Duration // 503 with Retry-After: the controller is admitting slowly
}

// maxRetryAfter bounds what a controller can make the device wait.
const maxRetryAfter = 300 * time.Second

// parseRetryAfter reads delta-seconds or an HTTP date (RFC 9110 §10.2.3);
// 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// ctxErr reports the context's end (step time-out, cancellation) rather
// than the I/O error it caused by expiring the deadline.
func ctxErr(ctx context.Context, err error) error {
	if cerr := context.Cause(ctx); cerr != nil {
		return cerr
	}
	return err
}

func (h *httpConn) close() { h.conn.Close() }

// parkedConn is an open connection to srv at addr, waiting for the next
// attempt there. A controller that admits slowly answers most of a
// reconnecting fleet "busy"; without parking, every such answer would cost
// both sides a full TLS handshake again at the retry.
type parkedConn struct {
	h    *httpConn
	srv  server
	addr netip.Addr
}

// park keeps the session's HTTP connection, if the server kept it open.
func (f *fsm) park(s *session) {
	s.mu.Lock()
	h := s.hc
	s.hc = nil
	s.mu.Unlock()
	if h == nil {
		return
	}
	f.dropParked()
	f.parked = &parkedConn{h: h, srv: s.srv, addr: s.addr}
}

// takeParked returns the parked connection when it goes to srv at addr;
// any other parked connection is closed.
func (f *fsm) takeParked(srv server, addr netip.Addr) *httpConn {
	p := f.parked
	f.parked = nil
	if p == nil {
		return nil
	}
	if p.srv != srv || p.addr != addr {
		p.h.close()
		return nil
	}
	return p.h
}

func (f *fsm) dropParked() {
	if f.parked != nil {
		f.parked.h.close()
		f.parked = nil
	}
}

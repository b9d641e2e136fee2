package cloudmgmt

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// countingListener counts accepted TCP connections.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// serveCounting serves the reference controller's protocol handler behind
// wrap on a loopback TLS listener that counts connections.
func serveCounting(t *testing.T, srv *controller.Server, wrap func(http.Handler) http.Handler) (*countingListener, int) {
	t.Helper()
	dir, _ := testTLS(t)
	tc, err := controller.EnsureTLS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	hs := &http.Server{Handler: wrap(srv.Handler())}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(tls.NewListener(cl, tc)) }()
	t.Cleanup(func() { hs.Close(); srv.Shutdown(); <-done })
	return cl, ln.Addr().(*net.TCPAddr).Port
}

// connectWithSubs runs a device against the controller on port until the
// controller holds both of its sub-connections.
func connectWithSubs(t *testing.T, srv *controller.Server, port int) *testDev {
	d := newDev(t, nil)
	d.SetConfig(cloudCfg("cloud.test", port), nil, hosts("cloud.test"))
	d.waitState(t, "Established")
	waitSubs(t, srv)
	return d
}

func waitSubs(t *testing.T, srv *controller.Server) {
	t.Helper()
	waitFor(t, "both sub-connections", func() bool {
		ds := srv.Devices()
		return len(ds) == 1 && len(ds[0].Subconns) == 2
	})
}

// The main WebSocket is upgraded on the connection that carried
// authentication and registration: 3 TCP+TLS connections per device (that
// one and two sub-connections), not 4.
func TestMainUpgradeReusesAuthConnection(t *testing.T) {
	srv := controller.New(controller.Config{Serials: []string{"SN1"}})
	cl, port := serveCounting(t, srv, func(h http.Handler) http.Handler { return h })
	connectWithSubs(t, srv, port)
	if n := cl.n.Load(); n != 3 {
		t.Fatalf("%d connections for auth+register+main+2 subs, want 3", n)
	}
}

// A controller that closes the connection after registration (Connection:
// close) still gets its main connection, on a new TCP+TLS connection.
func TestMainUpgradeAfterConnectionClose(t *testing.T) {
	srv := controller.New(controller.Config{Serials: []string{"SN1"}})
	cl, port := serveCounting(t, srv, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == wire.PathRegister || r.URL.Path == wire.PathAuth {
				w.Header().Set("Connection", "close")
			}
			h.ServeHTTP(w, r)
		})
	})
	connectWithSubs(t, srv, port)
	// auth, register, main, 2 subs: each on its own connection
	if n := cl.n.Load(); n != 5 {
		t.Fatalf("%d connections, want 5 (every request closed by the server)", n)
	}
}

// A kept connection the server closes while idle (before the next request)
// costs nothing: the request goes again on a new connection.
func TestRequestRetriedOnIdleClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var served atomic.Int32
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Write([]byte(`{"result":"success"}`))
	})}
	// the first connection answers one request, then the server closes it
	// without saying so (what an idle time-out does)
	closed := make(chan struct{})
	var once atomic.Bool
	hs.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateIdle && served.Load() == 1 && once.CompareAndSwap(false, true) {
			c.Close()
			close(closed)
		}
	}
	go hs.Serve(ln)
	defer hs.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c := New(Options{Serial: "SN1", LabPlainWS: true, ResolvConf: "/nonexistent"})
	s := &session{c: c, srv: server{Domain: "127.0.0.1", Port: port}, addr: lo}
	defer s.dropHTTP()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		code, body, err := s.postQuiet(ctx, "/x", map[string]string{"a": "b"})
		if err != nil || code != 200 || !strings.Contains(string(body), "success") {
			t.Fatalf("request %d: %d %q %v", i, code, body, err)
		}
		if i == 0 {
			<-closed
			s.mu.Lock()
			kept := s.hc != nil
			s.mu.Unlock()
			if !kept {
				t.Fatal("the first answer did not keep the connection")
			}
		}
	}
	if served.Load() != 2 {
		t.Fatalf("served %d requests, want 2", served.Load())
	}
}

// A controller admitting slowly answers 503 with Retry-After: the device
// comes back after that time (plus its 0–1 s spread) on the same connection,
// and the busy pass does not grow the backoff of the passes after it.
func TestBusyControllerRetryAfter(t *testing.T) {
	srv := controller.New(controller.Config{Serials: []string{"SN1"}})
	var auths atomic.Int32
	cl, port := serveCounting(t, srv, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == wire.PathAuth {
				switch auths.Add(1) {
				case 1:
					w.Header().Set("Retry-After", "3")
					http.Error(w, `{"result":"failure","reason":"busy"}`, http.StatusServiceUnavailable)
					return
				case 2:
					http.Error(w, `{"result":"failure"}`, http.StatusInternalServerError)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	d := newDev(t, nil) // Rand 0.5
	d.SetConfig(cloudCfg("cloud.test", port), nil, hosts("cloud.test"))
	w := d.waitWait(t)
	if w != 3500*time.Millisecond {
		t.Fatalf("wait after the busy answer %v, want 3.5s (Retry-After 3 + 0.5 of a second)", w)
	}
	if fr := d.Status().FailureReason; fr != "Authentication failed (Details:HTTP 503, server busy, retry after 3 s)" {
		t.Fatalf("failure reason %q", fr)
	}
	d.clk.Advance(w)
	w = d.waitWait(t)
	if w != 7500*time.Millisecond {
		t.Fatalf("wait after the next failure %v, want the first backoff U(5,10) s = 7.5s", w)
	}
	d.clk.Advance(w)
	d.waitState(t, "Established")
	waitSubs(t, srv)
	// busy + 500 on the first connection (parked through the wait), then
	// auth/register/main on a second one, and two sub-connections
	if n := cl.n.Load(); n != 4 {
		t.Fatalf("%d connections, want 4: the retry after the busy answer goes on the same connection", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "0": 0, "-3": 0, "x": 0, "100000": maxRetryAfter,
		"Mon, 23 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Mon, 23 Nov 2026 11:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

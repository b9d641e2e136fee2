package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// plainServer runs a lab-mode (ws://) controller on loopback.
func plainServer(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Config{Serials: []string{"SN1"}, Plain: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(ctx, ln, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, "http://" + ln.Addr().String()
}

func postJSON(t *testing.T, url, token string, in, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST %s: HTTP %d %v", url, resp.StatusCode, err)
	}
}

// rawDevice is a hand-made device: auth, register, upgrade, and then
// answer(ids) decides which exec ids to answer, in which order, each time
// an exec arrives.
func rawDevice(t *testing.T, s *Server, base string, answer func(pending []string) (now []string, rest []string, closeConn bool)) {
	t.Helper()
	var a wire.AuthResponse
	postJSON(t, base+wire.PathAuth, "", wire.AuthRequest{Serial: "SN1"}, &a)
	var r wire.RegisterResponse
	postJSON(t, base+wire.PathRegister, a.Token, wire.RegisterRequest{Serial: "SN1", Keepalive: 180, Ping: 60}, &r)
	d := websocket.Dialer{Subprotocols: []string{wire.Subprotocol}}
	ws, _, err := d.Dial(r.MainURL, http.Header{"Authorization": {"Bearer " + a.Token}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ws.Close(); <-done })
	go func() {
		defer close(done)
		var pending []string
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			f, err := wire.DecodeFrame(b, wire.ToDevice)
			if err != nil || f.Type != wire.TypeExec {
				continue
			}
			var id string
			json.Unmarshal(f.ID, &id)
			now, rest, closeConn := answer(append(pending, id))
			pending = rest
			for _, id := range now {
				raw, _ := json.Marshal(id)
				ws.WriteMessage(websocket.TextMessage, wire.ExecResult(raw, "out "+strings.Join(f.Lines, ","), true))
			}
			if closeConn {
				ws.Close()
				return
			}
		}
	}()
	waitConnected(t, s)
}

func waitConnected(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if d := s.Devices(); len(d) == 1 && d[0].Connected {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("device not connected")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func runFlood(t *testing.T, s *Server, count int) FloodResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := s.ExecFlood(ctx, "SN1", []string{"display clock"}, count)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFloodInOrder(t *testing.T) {
	s, base := plainServer(t)
	rawDevice(t, s, base, func(p []string) ([]string, []string, bool) { return p, nil, false })
	r := runFlood(t, s, 300)
	if r.Sent != 300 || r.Answered != 300 || !r.InOrder || r.OK != 300 || r.FirstOutput != "out display clock" || r.Error != "" {
		t.Fatalf("%+v", r)
	}
	// the flood is over: another may start, single execs still work
	if r := runFlood(t, s, 3); !r.InOrder || r.Answered != 3 {
		t.Fatalf("%+v", r)
	}
}

func TestFloodOutOfOrderIsSeen(t *testing.T) {
	s, base := plainServer(t)
	// answers each pair second first
	rawDevice(t, s, base, func(p []string) ([]string, []string, bool) {
		if len(p) < 2 {
			return nil, p, false
		}
		return []string{p[1], p[0]}, nil, false
	})
	r := runFlood(t, s, 10)
	if r.Answered != 10 || r.InOrder || r.Error != "" {
		t.Fatalf("%+v", r)
	}
}

func TestFloodConnectionLost(t *testing.T) {
	s, base := plainServer(t)
	n := 0
	rawDevice(t, s, base, func(p []string) ([]string, []string, bool) {
		n++
		return p, nil, n == 5
	})
	r := runFlood(t, s, 1000)
	// (the writer may have seen the loss before writing everything)
	if r.Answered != 5 || r.Sent < 5 || r.InOrder != (r.Sent == 5) || r.Error == "" {
		t.Fatalf("%+v", r)
	}
}

func TestFloodRefusals(t *testing.T) {
	s, base := plainServer(t)
	ctx := context.Background()
	if _, err := s.ExecFlood(ctx, "SN1", []string{"x"}, 1); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	rawDevice(t, s, base, func(p []string) ([]string, []string, bool) {
		<-hold // answers nothing until the second flood was refused
		return p, nil, false
	})
	t.Cleanup(release) // (runs before the device's cleanup)
	first := make(chan FloodResult, 1)
	go func() {
		r, _ := s.ExecFlood(ctx, "SN1", []string{"x"}, 2)
		first <- r
	}()
	deadline := time.Now().Add(10 * time.Second)
	for running := false; !running; {
		if time.Now().After(deadline) {
			t.Fatal("the first flood did not start")
		}
		time.Sleep(time.Millisecond)
		f := s.Devices()[0].Flood
		running = f != nil && f.Count == 2 && f.Answered == 0
	}
	if _, err := s.ExecFlood(ctx, "SN1", []string{"x"}, 1); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second flood not refused: %v", err)
	}
	release()
	if r := <-first; !r.InOrder || r.Answered != 2 {
		t.Fatalf("%+v", r)
	}
	for _, n := range []int{0, -1, MaxFloodCount + 1} {
		if _, err := s.ExecFlood(ctx, "SN1", []string{"x"}, n); err == nil {
			t.Fatalf("count %d accepted", n)
		}
	}
	// the admin endpoint: bad count 400, unknown device 404
	h := s.AdminHandler()
	for body, code := range map[string]int{
		`{"serial":"SN1","lines":["x"],"count":0}`:      400,
		`{"serial":"NOPE","lines":["x"],"count":1}`:     404,
		`{"serial":"SN1","lines":["x"],"count":"many"}`: 400,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/flood", strings.NewReader(body)))
		if rec.Code != code {
			t.Errorf("%s: HTTP %d, want %d: %s", body, rec.Code, code, rec.Body)
		}
	}
}

package controller

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// fakeClock is the injected Config.Now; the tests run the handler
// synchronously, so it needs no lock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func serialsN(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SN%05d", i)
	}
	return out
}

func newAdmitServer(n int, window time.Duration, log *zap.Logger) (*Server, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 11, 40, 0, 0, time.UTC)}
	return New(Config{Serials: serialsN(n), AdmitWindow: window, Now: clk.Now, Plain: true, Log: log}), clk
}

// authOnce posts one auth through the protocol handler.
func authOnce(t *testing.T, h http.Handler, serial string) *httptest.ResponseRecorder {
	t.Helper()
	body := `{"serial":"` + serial + `","model":"M","mac":"aa:bb:cc:dd:ee:ff","sysname":"s","software":"1"}`
	req := httptest.NewRequest("POST", wire.PathAuth, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// busyAfter checks a busy answer and returns its Retry-After.
func busyAfter(t *testing.T, rec *httptest.ResponseRecorder) int {
	t.Helper()
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", rec.Code, rec.Body)
	}
	n, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	var r wire.AuthResponse
	if err := wire.DecodeBody(rec.Body.Bytes(), &r, "result", "reason"); err != nil {
		t.Fatal(err)
	}
	if r.Result != wire.ResultFailure || r.Reason != wire.ReasonBusy || !strings.HasPrefix(r.Message, "controller busy: admitting ") {
		t.Fatalf("busy body %+v", r)
	}
	return n
}

func TestAdmissionOff(t *testing.T) {
	s, _ := newAdmitServer(1000, 0, nil)
	h := s.Handler()
	for _, sn := range serialsN(1000) {
		if rec := authOnce(t, h, sn); rec.Code != 200 {
			t.Fatalf("%s: %d %s", sn, rec.Code, rec.Body)
		}
	}
	if a := s.Admission(); a.Admitted != 1000 || a.Busy != 0 || a.WindowSeconds != 0 || a.RatePerSecond != 0 {
		t.Fatalf("%+v", a)
	}
}

// TestAdmissionBurst: 1,000 devices in one instant with a 10 s window:
// r = 100/s, b = 20, so 21 get in and the rest get slots 10 ms apart.
func TestAdmissionBurst(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	s, _ := newAdmitServer(1000, 10*time.Second, zap.New(core))
	h := s.Handler()
	admitted, last := 0, 0
	perSecond := map[int]int{}
	for _, sn := range serialsN(1000) {
		rec := authOnce(t, h, sn)
		if rec.Code == 200 {
			if last != 0 {
				t.Fatalf("%s admitted after a busy answer", sn)
			}
			admitted++
			continue
		}
		n := busyAfter(t, rec)
		if n < last {
			t.Fatalf("%s: Retry-After %d after %d", sn, n, last)
		}
		last = n
		perSecond[n]++
	}
	if admitted != 21 {
		t.Fatalf("%d admitted at once, want 21", admitted)
	}
	for sec, n := range perSecond {
		if n > 120 {
			t.Fatalf("%d reservations in second %d, over r+b", n, sec)
		}
	}
	if last != 10 {
		t.Fatalf("last slot in %d s, want 10 (the whole fleet within the window)", last)
	}
	a := s.Admission()
	if a != (AdmissionInfo{WindowSeconds: 10, RatePerSecond: 100, Admitted: 21, Busy: 979, Reservations: 979}) {
		t.Fatalf("%+v", a)
	}
	if n := logs.FilterMessage("admission: controller busy").Len(); n != 1 {
		t.Fatalf("%d busy log lines in one second, want 1", n)
	}
}

// TestAdmissionComeBack: a device back at its Retry-After is admitted
// although new devices keep arriving faster than the rate; one too early
// keeps its slot and gets no second one.
func TestAdmissionComeBack(t *testing.T) {
	s, clk := newAdmitServer(6000, 20*time.Second, nil) // r = 300, b = 60
	h := s.Handler()
	all := serialsN(6000)
	for _, sn := range all[:1000] {
		authOnce(t, h, sn)
	}
	late, next := all[999], 1000
	n := busyAfter(t, authOnce(t, h, late)) // same instant: its own slot again
	if n != 4 {
		t.Fatalf("Retry-After %d, want 4 (slot at 999/300 s)", n)
	}
	newcomers := func(d time.Duration) { // 400 new devices a second, over the rate
		for end := clk.t.Add(d); clk.t.Before(end); clk.Advance(100 * time.Millisecond) {
			for i := 0; i < 40; i++ {
				busyAfter(t, authOnce(t, h, all[next]))
				next++
			}
		}
	}
	newcomers(time.Duration(n-2) * time.Second)
	before := s.Admission()
	if m := busyAfter(t, authOnce(t, h, late)); m != 2 {
		t.Fatalf("too early: Retry-After %d, want 2", m)
	}
	if a := s.Admission(); a.Reservations != before.Reservations || a.Busy != before.Busy+1 {
		t.Fatalf("too early made a reservation: %+v → %+v", before, a)
	}
	newcomers(2 * time.Second)
	if rec := authOnce(t, h, late); rec.Code != 200 {
		t.Fatalf("back at its slot: %d %s", rec.Code, rec.Body)
	}
	if rec := authOnce(t, h, all[next]); rec.Code != 503 {
		t.Fatalf("a new device got ahead of the queue: %d", rec.Code)
	}
}

// TestAdmissionStale: devices that never come back do not stay in the map.
func TestAdmissionStale(t *testing.T) {
	s, clk := newAdmitServer(2000, 10*time.Second, nil) // r = 200, b = 40
	h := s.Handler()
	all := serialsN(2000)
	for round := 0; round < 20; round++ {
		for _, sn := range all[:1000] { // everyone asks, nobody returns
			authOnce(t, h, sn)
		}
		// the last round's slots went stale: 41 admitted again, 959 new slots
		if a := s.Admission(); a.Reservations != 959 || len(s.adm.queue) != 959 || a.Admitted != uint64(41*(round+1)) {
			t.Fatalf("round %d: %+v, queue %d", round, a, len(s.adm.queue))
		}
		clk.Advance(2 * time.Minute)
	}
	// then a trickle well under the rate: every old slot is swept
	for i, sn := range all[1000:1100] {
		if rec := authOnce(t, h, sn); rec.Code != 200 {
			t.Fatalf("trickle %d: %d", i, rec.Code)
		}
		clk.Advance(100 * time.Millisecond)
	}
	if a := s.Admission(); a.Reservations != 0 || len(s.adm.queue) != 0 {
		t.Fatalf("%+v, queue %d", a, len(s.adm.queue))
	}
}

// TestAdmissionOnlyAuth: unknown, bound and injected-fault serials are
// answered as before, and never take a slot.
func TestAdmissionOnlyAuth(t *testing.T) {
	s, _ := newAdmitServer(10, time.Second, nil) // r = 50, b = 10
	s.AddSerial("BOUND", "code")
	h := s.Handler()
	for i := 0; i < 200; i++ {
		if rec := authOnce(t, h, "NOPE"); rec.Code != 403 {
			t.Fatal(rec.Code)
		}
		if rec := authOnce(t, h, "BOUND"); rec.Code != 409 {
			t.Fatal(rec.Code)
		}
	}
	if a := s.Admission(); a.Busy != 0 || a.Reservations != 0 {
		t.Fatalf("%+v", a)
	}
	s.SetFaults(Faults{RejectAuth: 500})
	if rec := authOnce(t, h, "SN00000"); rec.Code != 500 {
		t.Fatal(rec.Code)
	}
}

func TestAdmissionAdmin(t *testing.T) {
	s, _ := newAdmitServer(1000, 10*time.Second, nil)
	h := s.Handler()
	for _, sn := range serialsN(30) {
		authOnce(t, h, sn)
	}
	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/admission", nil))
	var got map[string]float64
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"window_seconds": 10, "rate_per_second": 100, "admitted": 21, "busy": 9, "reservations": 9}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s", rec.Body)
	}
}

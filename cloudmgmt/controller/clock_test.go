package controller

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// TestTokenLifetimeOnInjectedClock: a token lives TokenTTL on Config.Now,
// not on the real clock; only the injected clock moves here.
func TestTokenLifetimeOnInjectedClock(t *testing.T) {
	s, clk := newAdmitServer(1, 0, nil)
	h := s.Handler()
	rec := authOnce(t, h, "SN00000")
	var ar wire.AuthResponse
	if err := wire.DecodeBody(rec.Body.Bytes(), &ar, "result"); err != nil || ar.Token == "" {
		t.Fatalf("auth: %d %s (%v)", rec.Code, rec.Body, err)
	}
	register := func() int {
		req := httptest.NewRequest("POST", wire.PathRegister,
			strings.NewReader(`{"serial":"SN00000","keepalive":180,"ping":60}`))
		req.Header.Set("Authorization", "Bearer "+ar.Token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	clk.Advance(299 * time.Second)
	if code := register(); code != 200 {
		t.Fatalf("register 299 s after auth (TTL 300 s): %d, want 200", code)
	}
	clk.Advance(2 * time.Second)
	if code := register(); code != 401 {
		t.Fatalf("register 301 s after auth on the injected clock (TTL 300 s): %d, want 401", code)
	}
}

package sshd

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
)

// banner connects from src (a loopback address) and returns what the server
// sends first: its SSH identification line, or "" when it closes the
// connection without a byte.
func (h *harness) banner(t *testing.T, src string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", h.srv.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(conn, buf, 8)
	if err != nil && n == 0 && !errorsIsEOFOrReset(err) {
		t.Fatalf("read from %s: %v", src, err)
	}
	return string(buf[:n])
}

func errorsIsEOFOrReset(err error) bool {
	return err == io.EOF || strings.Contains(err.Error(), "reset by peer")
}

// loginFrom logs in as admin from src and runs one exec command.
func (h *harness) loginFrom(src string) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", h.srv.Addr().String())
	if err != nil {
		return err
	}
	defer conn.Close()
	cc, chans, reqs, err := gossh.NewClientConn(conn, h.srv.Addr().String(), clientConfig("admin", gossh.Password(testPassword)))
	if err != nil {
		return err
	}
	c := gossh.NewClient(cc, chans, reqs)
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return err
	}
	_, err = sess.Output("display clock")
	return err
}

func withACL(n int, rules ...config.ACLRule) func(*config.Config) {
	return func(c *config.Config) {
		c.SSH.ACL = n
		c.ACLs = []config.ACL{{Number: n, Rules: rules}}
	}
}

func host(a string) (netip.Addr, netip.Addr) {
	return netip.MustParseAddr(a), netip.AddrFrom4([4]byte{})
}

func TestACLPermitDeny(t *testing.T) {
	h := newHarness(t)
	// No ACL: both sources get in.
	for _, src := range []string{"127.0.0.1", "127.0.0.2"} {
		if err := h.loginFrom(src); err != nil {
			t.Fatalf("no ACL, from %s: %v", src, err)
		}
	}
	// Only 127.0.0.1 permitted: 127.0.0.2 matches no rule and is refused
	// before the version exchange.
	a1, w := host("127.0.0.1")
	h.setConfig(withACL(2000, config.ACLRule{ID: 0, Permit: true, Source: a1, Wildcard: w}))
	if err := h.loginFrom("127.0.0.1"); err != nil {
		t.Fatalf("permitted source: %v", err)
	}
	if b := h.banner(t, "127.0.0.2"); b != "" {
		t.Fatalf("refused source got %q", b)
	}
	if err := h.loginFrom("127.0.0.2"); err == nil {
		t.Fatal("source matching no rule logged in")
	}
	if b := h.banner(t, "127.0.0.1"); !strings.HasPrefix(b, "SSH-2.0-Comware-7.1.064") {
		t.Fatalf("permitted source banner %q", b)
	}
	log := h.logText()
	if !strings.Contains(log, "SSHS/5/SSHS_ACL_DENY: SSH client 127.0.0.2 was denied by ACL 2000.\n") {
		t.Fatalf("log:\n%s", log)
	}
	if n := strings.Count(log, "SSHS_ACL_DENY"); n != 1 {
		t.Fatalf("%d deny lines within a minute, want 1:\n%s", n, log)
	}
	if h.srv.RefusedByACL() != 2 {
		t.Fatalf("refused %d", h.srv.RefusedByACL())
	}
	// The permit rule counted the permitted connections (login + banner).
	ms := h.srv.ACLMatches()
	if len(ms) != 1 || ms[0].ACL != 2000 || ms[0].Rule.ID != 0 || ms[0].Count != 2 {
		t.Fatalf("matches %+v", ms)
	}

	// An explicit deny first, then permit any: 127.0.0.2 refused, others in.
	a2, _ := host("127.0.0.2")
	h.setConfig(withACL(2001, config.ACLRule{ID: 0, Source: a2, Wildcard: w}, config.ACLRule{ID: 5, Permit: true}))
	if b := h.banner(t, "127.0.0.2"); b != "" {
		t.Fatalf("denied source got %q", b)
	}
	if err := h.loginFrom("127.0.0.3"); err != nil {
		t.Fatalf("permit any: %v", err)
	}
	// A deny rule for a whole network (wildcard) covering 127.0.0.1 too.
	net127, _ := netip.ParseAddr("127.0.0.0")
	h.setConfig(withACL(2002, config.ACLRule{ID: 0, Source: net127, Wildcard: netip.MustParseAddr("0.0.0.255")}))
	if b := h.banner(t, "127.0.0.1"); b != "" {
		t.Fatalf("deny 127.0.0.0/24: got %q", b)
	}

	// An ACL with no rules, and an ACL number with no ACL: everyone gets in
	// (Comware).
	h.setConfig(withACL(2003))
	if err := h.loginFrom("127.0.0.2"); err != nil {
		t.Fatalf("empty ACL: %v", err)
	}
	h.setConfig(func(c *config.Config) { c.ACLs = nil; c.SSH.ACL = 2000 })
	if err := h.loginFrom("127.0.0.2"); err != nil {
		t.Fatalf("missing ACL: %v", err)
	}
	// undo ssh server acl.
	h.setConfig(func(c *config.Config) {
		withACL(2000, config.ACLRule{ID: 0, Permit: true, Source: a1, Wildcard: w})(c)
		c.SSH.ACL = 0
	})
	if err := h.loginFrom("127.0.0.2"); err != nil {
		t.Fatalf("no ssh server acl: %v", err)
	}
}

func TestACLDenyLogRateLimited(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC))
	a1, w := host("127.0.0.1")
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.Clock = fake
		withACL(2000, config.ACLRule{ID: 0, Permit: true, Source: a1, Wildcard: w})(c)
	})
	for i := 0; i < 20; i++ {
		if b := h.banner(t, "127.0.0.2"); b != "" {
			t.Fatalf("refused source got %q", b)
		}
	}
	h.banner(t, "127.0.0.3")
	if n := strings.Count(h.logText(), "SSHS_ACL_DENY"); n != 2 {
		t.Fatalf("%d deny lines, want one per source:\n%s", n, h.logText())
	}
	fake.Advance(61 * time.Second)
	h.banner(t, "127.0.0.2")
	if !strings.Contains(h.logText(), "SSH client 127.0.0.2 was denied by ACL 2000 (20 connections since the last report).") {
		t.Fatalf("log:\n%s", h.logText())
	}
}

func TestACLVerdict(t *testing.T) {
	cfg := config.Default()
	a1, w := host("10.1.1.1")
	cfg.ACLs = []config.ACL{{Number: 2000, Rules: []config.ACLRule{{ID: 0, Permit: true, Source: a1, Wildcard: w}}}}
	cfg.SSH.ACL = 2000
	for _, tt := range []struct {
		addr   string
		permit bool
	}{
		{"10.1.1.1", true},
		{"::ffff:10.1.1.1", true},
		{"10.1.1.2", false},
		{"2001:db8::1", true}, // an IPv4 basic ACL does not filter IPv6 clients
	} {
		if p, _, _, _ := aclVerdict(cfg, netip.MustParseAddr(tt.addr)); p != tt.permit {
			t.Errorf("%s: permit %v", tt.addr, p)
		}
	}
}

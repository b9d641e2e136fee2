package sshd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"sync/atomic"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// TestSessionConnInfo: a session knows the cipher its connection sends
// with (the one the client reads with) and how many authentication
// attempts the login took (display ssh server session).
func TestSessionConnInfo(t *testing.T) {
	var srv atomic.Pointer[Server]
	seen := make(chan []device.VTYSession, 4)
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.Exec = func(ctx context.Context, id device.Identity, lines []string, out io.Writer) bool {
			seen <- srv.Load().Sessions()
			return true
		}
	})
	srv.Store(h.srv)
	login := func(c *gossh.Client) device.VTYSession {
		t.Helper()
		defer c.Close()
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Run("display users"); err != nil {
			t.Fatal(err)
		}
		ss := <-seen
		if len(ss) != 1 {
			t.Fatalf("sessions %+v", ss)
		}
		client, ok := c.Conn.(gossh.AlgorithmsConnMetadata)
		if !ok || ss[0].Cipher == "" || ss[0].Cipher != client.Algorithms().Read.Cipher {
			t.Errorf("cipher %q, the client reads with %v", ss[0].Cipher, client.Algorithms())
		}
		return ss[0]
	}

	tries := 0
	c, err := h.dial("admin", gossh.RetryableAuthMethod(gossh.PasswordCallback(func() (string, error) {
		tries++
		if tries == 1 {
			return "not-the-password", nil
		}
		return testPassword, nil
	}), 3))
	if err != nil {
		t.Fatal(err)
	}
	if s := login(c); s.AuthAttempts != 2 {
		t.Errorf("wrong then right password: %d attempts", s.AuthAttempts)
	}

	// A refused key offered first is not an attempt; the accepted one is.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := gossh.NewSignerFromKey(otherKey)
	c, err = h.dial("keyuser", gossh.PublicKeys(other, h.clientK))
	if err != nil {
		t.Fatal(err)
	}
	if s := login(c); s.AuthAttempts != 1 {
		t.Errorf("key login: %d attempts", s.AuthAttempts)
	}
}

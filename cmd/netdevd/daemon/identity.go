package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// Console is root on the box: `netdevd shell` and `netdevd exec` without a
// session token. The socket's mode and peer check keep everyone else out.
var Console = device.Identity{User: "console", Role: config.RoleAdmin, Line: "CON 0"}

// CloudIdentity runs the controller's `exec` lines (protocol §3).
var CloudIdentity = device.Identity{User: "cloud", Role: config.RoleAdmin, Line: "CLOUD"}

// tokens maps the session tokens handed to SSH shell children to the
// identity the SSH login established, so a child cannot claim more.
type tokens struct {
	mu sync.Mutex
	m  map[string]device.Identity
}

func (t *tokens) issue(id device.Identity) (string, func()) {
	b := make([]byte, 24)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]device.Identity{}
	}
	t.m[tok] = id
	t.mu.Unlock()
	return tok, func() {
		t.mu.Lock()
		delete(t.m, tok)
		t.mu.Unlock()
	}
}

var errBadToken = errors.New("unknown or expired session token")

func (t *tokens) identify(tok string) (device.Identity, error) {
	if tok == "" {
		return Console, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.m[tok]
	if !ok {
		return device.Identity{}, errBadToken
	}
	return id, nil
}

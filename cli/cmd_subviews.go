package cli

import (
	"slices"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/password"
)

// Commands of the line and local-user views.

func runAuthMode(e *invocation) error {
	mode := e.arg("mode")
	return e.update(func(c *config.Config) error {
		c.VTY.AuthMode = mode
		return nil
	})
}

var runUndoAuthMode = setter(func(e *invocation, c *config.Config) { c.VTY.AuthMode = "scheme" })

var runLineRole = setter(func(e *invocation, c *config.Config) { c.VTY.UserRole = config.Role(e.arg("role")) })

// runUndoLineRole clears the role; with a role, only when it is that one.
func runUndoLineRole(e *invocation) error {
	role, any := config.Role(e.arg("role")), !e.has("role")
	return e.update(func(c *config.Config) error {
		if any || c.VTY.UserRole == role {
			c.VTY.UserRole = ""
		}
		return nil
	})
}

// runIdleTimeout sets `idle-timeout MIN [SEC]`; SEC defaults to 0.
func runIdleTimeout(e *invocation) error {
	min, sec := e.number("min"), 0
	if e.has("sec") {
		sec = e.number("sec")
	}
	return e.update(func(c *config.Config) error {
		c.VTY.IdleMinutes, c.VTY.IdleSeconds = min, sec
		return nil
	})
}

// `screen-length N` in line vty view: the page of the sessions on those
// lines (pager.go).
var (
	runScreenLength          = setter(func(e *invocation, c *config.Config) { c.VTY.ScreenLength = e.number("lines") })
	runUndoScreenLengthLines = setter(func(_ *invocation, c *config.Config) { c.VTY.ScreenLength = config.DefaultScreenLength })
)

var runUndoIdleTimeout = setter(func(e *invocation, c *config.Config) {
	c.VTY.IdleMinutes, c.VTY.IdleSeconds = config.DefaultIdleMinutes, config.DefaultIdleSeconds
})

// updateUser changes the local user whose view the session is in. The user
// may have been deleted meanwhile (by another session).
func (e *invocation) updateUser(change func(u *config.LocalUser)) error {
	name := e.s.view.user
	return e.update(func(c *config.Config) error {
		u, ok := c.User(name)
		if !ok {
			return failure("The local user " + name + " does not exist.")
		}
		change(u)
		return nil
	})
}

// runPasswordSimple stores only the hash, computed once outside Update
// (change may run again and a new salt each time would be wasteful).
func runPasswordSimple(e *invocation) error {
	hash, err := password.Hash(e.arg("password"))
	if err != nil {
		return err
	}
	return e.updateUser(func(u *config.LocalUser) { u.PasswordHash = hash })
}

func runPasswordHash(e *invocation) error {
	hash := e.arg("hash")
	if !password.Valid(hash) {
		return e.wrongParameter("hash")
	}
	return e.updateUser(func(u *config.LocalUser) { u.PasswordHash = hash })
}

func runUndoPassword(e *invocation) error {
	return e.updateUser(func(u *config.LocalUser) { u.PasswordHash = "" })
}

func runServiceSSH(e *invocation) error {
	return e.updateUser(func(u *config.LocalUser) { u.ServiceSSH = true })
}

func runUndoServiceSSH(e *invocation) error {
	return e.updateUser(func(u *config.LocalUser) { u.ServiceSSH = false })
}

func runUserRole(e *invocation) error {
	role := config.Role(e.arg("role"))
	return e.updateUser(func(u *config.LocalUser) { u.Role = role })
}

// runUndoUserRole clears the role; with a role, only when it is that one.
func runUndoUserRole(e *invocation) error {
	role, any := config.Role(e.arg("role")), !e.has("role")
	return e.updateUser(func(u *config.LocalUser) {
		if any || u.Role == role {
			u.Role = ""
		}
	})
}

// runPublicKey adds an authorized key; the same key again replaces its
// comment in place.
func runPublicKey(e *invocation) error {
	key, err := e.authorizedKey()
	if err != nil {
		return err
	}
	line := e.arg("type") + " " + e.arg("data")
	if e.has("comment") {
		line += " " + e.arg("comment")
	}
	return e.updateUser(func(u *config.LocalUser) {
		u.PublicKeys = slices.Clone(u.PublicKeys)
		for i, old := range u.PublicKeys {
			if sameKey(old, key) {
				u.PublicKeys[i] = line
				return
			}
		}
		u.PublicKeys = append(u.PublicKeys, line)
	})
}

// runUndoPublicKey removes one key, or all of them without a key.
func runUndoPublicKey(e *invocation) error {
	if !e.has("type") {
		return e.updateUser(func(u *config.LocalUser) { u.PublicKeys = nil })
	}
	key, err := e.authorizedKey()
	if err != nil {
		return err
	}
	return e.updateUser(func(u *config.LocalUser) {
		u.PublicKeys = slices.DeleteFunc(slices.Clone(u.PublicKeys), func(old string) bool { return sameKey(old, key) })
		if len(u.PublicKeys) == 0 {
			u.PublicKeys = nil
		}
	})
}

// authorizedKey parses the typed key; a malformed one is Wrong parameter
// at the key data.
func (e *invocation) authorizedKey() (gossh.PublicKey, error) {
	key, _, _, _, err := gossh.ParseAuthorizedKey([]byte(e.arg("type") + " " + e.arg("data")))
	if err != nil || key.Type() != e.arg("type") {
		return nil, e.wrongParameter("data")
	}
	return key, nil
}

// sameKey compares a stored authorized-key line with key, ignoring comments.
func sameKey(line string, key gossh.PublicKey) bool {
	old, _, _, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	return err == nil && string(old.Marshal()) == string(key.Marshal())
}

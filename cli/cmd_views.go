package cli

import (
	"strconv"

	"github.com/netdevd/netdevd/internal/config"
)

// Commands that move between views.

func runQuit(e *invocation) error {
	s := e.s
	switch s.view.kind {
	case viewUser:
		s.ended = true
	case viewSystem:
		s.view = view{kind: viewUser}
	default:
		s.view = view{kind: viewSystem}
	}
	return nil
}

func runReturn(e *invocation) error {
	e.s.view = view{kind: viewUser}
	return nil
}

func runSystemView(e *invocation) error {
	e.println("System View: return to User View with Ctrl+Z.")
	e.s.view = view{kind: viewSystem}
	return nil
}

// runInterfaceVlan enters Vlan-interface1, the only interface the device has.
func runInterfaceVlan(e *invocation) error {
	if n, _ := strconv.Atoi(e.arg("vlan")); n != 1 {
		return e.wrongParameter("vlan")
	}
	e.s.view = view{kind: viewVlanInterface}
	return nil
}

// runLineVTY enters the VTY line view. The range shows in the prompt as
// typed; settings apply to every VTY line, so nothing about it is stored.
func runLineVTY(e *invocation) error {
	first, _ := strconv.Atoi(e.arg("first"))
	label := strconv.Itoa(first)
	if e.has("last") {
		last, _ := strconv.Atoi(e.arg("last"))
		if last < first {
			return e.wrongParameter("last")
		}
		label += "-" + strconv.Itoa(last)
	}
	e.s.view = view{kind: viewLine, lines: label}
	return nil
}

// runLocalUser creates the user if needed and enters its view; a new user
// is announced, as on Comware. The change may run more than once: the last
// run, the one committed, says whether the user was new.
func runLocalUser(e *invocation) error {
	name := e.arg("user")
	added := false
	err := e.update(func(c *config.Config) error {
		_, exists := c.User(name)
		added = !exists
		if !exists {
			c.LocalUsers = append(c.LocalUsers, config.LocalUser{Name: name})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if added {
		e.println("New local user added.")
	}
	e.s.view = view{kind: viewLocalUser, user: name}
	return nil
}

func runUndoLocalUser(e *invocation) error {
	name := e.arg("user")
	return e.update(func(c *config.Config) error {
		for i, u := range c.LocalUsers {
			if u.Name == name {
				c.LocalUsers = append(c.LocalUsers[:i:i], c.LocalUsers[i+1:]...)
				break
			}
		}
		return nil
	})
}

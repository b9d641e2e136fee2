package cli

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// System view commands other than cloud-management.

var (
	errDNSServerLimit = failure("The number of DNS servers reached the upper limit.")
)

func runSysname(e *invocation) error {
	name := e.arg("name")
	return e.update(func(c *config.Config) error {
		c.Sysname = name
		return nil
	})
}

func runUndoSysname(e *invocation) error {
	return e.update(func(c *config.Config) error {
		c.Sysname = config.DefaultSysname
		return nil
	})
}

// addr is the IPv4 address stored under name (already validated).
func (e *invocation) addr(name string) netip.Addr {
	a, _ := parseIPv4(e.arg(name))
	return a
}

// number is the integer stored under name (already validated).
func (e *invocation) number(name string) int {
	n, _ := strconv.Atoi(e.arg(name))
	return n
}

// runDNSServer appends a server; a server already there is left in place.
func runDNSServer(e *invocation) error {
	a := e.addr("addr")
	return e.update(func(c *config.Config) error {
		if slices.Contains(c.DNSServers, a) {
			return nil
		}
		if len(c.DNSServers) >= config.MaxDNSServers {
			return errDNSServerLimit
		}
		c.DNSServers = append(c.DNSServers, a)
		return nil
	})
}

func runUndoDNSServer(e *invocation) error {
	a := e.addr("addr")
	return e.update(func(c *config.Config) error {
		c.DNSServers = slices.DeleteFunc(c.DNSServers, func(b netip.Addr) bool { return a == b })
		return nil
	})
}

// runIPHost maps a name to an address; a name already mapped gets the new
// address in its old place. Host names compare case-insensitively, as DNS
// names do.
func runIPHost(e *invocation) error {
	host := config.IPHost{Name: e.arg("name"), Addr: e.addr("addr")}
	return e.update(func(c *config.Config) error {
		for i := range c.IPHosts {
			if strings.EqualFold(c.IPHosts[i].Name, host.Name) {
				c.IPHosts[i] = host
				return nil
			}
		}
		c.IPHosts = append(c.IPHosts, host)
		return nil
	})
}

// runUndoIPHost removes a mapping; with an address, only when it matches.
func runUndoIPHost(e *invocation) error {
	name, hasAddr, a := e.arg("name"), e.has("addr"), e.addr("addr")
	return e.update(func(c *config.Config) error {
		c.IPHosts = slices.DeleteFunc(c.IPHosts, func(h config.IPHost) bool {
			return strings.EqualFold(h.Name, name) && (!hasAddr || h.Addr == a)
		})
		return nil
	})
}

// setter returns a handler that applies set to the configuration. set
// reads only the parsed arguments, which never change, so the change stays
// a function of its argument however often the device runs it.
func setter(set func(e *invocation, c *config.Config)) handler {
	return func(e *invocation) error {
		return e.update(func(c *config.Config) error {
			set(e, c)
			return nil
		})
	}
}

var (
	runSSHEnable      = setter(func(e *invocation, c *config.Config) { c.SSH.Enabled = true })
	runUndoSSHEnable  = setter(func(e *invocation, c *config.Config) { c.SSH.Enabled = false })
	runSSHRetries     = setter(func(e *invocation, c *config.Config) { c.SSH.AuthRetries = e.number("n") })
	runUndoSSHRetries = setter(func(e *invocation, c *config.Config) { c.SSH.AuthRetries = config.DefaultSSHAuthRetries })
	runSSHTimeout     = setter(func(e *invocation, c *config.Config) { c.SSH.AuthTimeout = e.number("n") })
	runUndoSSHTimeout = setter(func(e *invocation, c *config.Config) { c.SSH.AuthTimeout = config.DefaultSSHAuthTimeout })
	// ip address dhcp-alloc: cmd_network.go
)

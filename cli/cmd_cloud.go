package cli

import (
	"slices"

	"github.com/netdevd/netdevd/internal/config"
)

// cloud-management commands (cloud-management.md).

var (
	errBackupExists = failure("The backup server already exists.")
	errBackupLimit  = failure("The number of backup servers reached the upper limit.")
)

var (
	runCloudDomain        = setter(func(e *invocation, c *config.Config) { c.Cloud.ServerDomain = e.arg("domain") })
	runUndoCloudDomain    = setter(func(e *invocation, c *config.Config) { c.Cloud.ServerDomain = "" })
	runCloudPort          = setter(func(e *invocation, c *config.Config) { c.Cloud.ServerPort = e.number("port") })
	runUndoCloudPort      = setter(func(e *invocation, c *config.Config) { c.Cloud.ServerPort = config.DefaultCloudPort })
	runCloudKeepalive     = setter(func(e *invocation, c *config.Config) { c.Cloud.Keepalive = e.number("n") })
	runUndoCloudKeepalive = setter(func(e *invocation, c *config.Config) { c.Cloud.Keepalive = config.DefaultKeepalive })
	runCloudPing          = setter(func(e *invocation, c *config.Config) { c.Cloud.Ping = e.number("n") })
	runUndoCloudPing      = setter(func(e *invocation, c *config.Config) { c.Cloud.Ping = config.DefaultPing })
)

// runCloudBackup appends a backup server. Domains are case-sensitive
// (cloud-management.md), so a duplicate is the same name exactly.
func runCloudBackup(e *invocation) error {
	b := config.Backup{Domain: e.arg("domain")}
	if e.has("port") {
		b.Port = e.number("port")
	}
	return e.update(func(c *config.Config) error {
		if slices.ContainsFunc(c.Cloud.Backups, func(o config.Backup) bool { return o.Domain == b.Domain }) {
			return errBackupExists
		}
		if len(c.Cloud.Backups) >= config.MaxBackups {
			return errBackupLimit
		}
		c.Cloud.Backups = append(c.Cloud.Backups, b)
		return nil
	})
}

// runUndoCloudBackup removes one backup, or all of them without a domain.
func runUndoCloudBackup(e *invocation) error {
	domain, all := e.arg("domain"), !e.has("domain")
	return e.update(func(c *config.Config) error {
		c.Cloud.Backups = slices.DeleteFunc(c.Cloud.Backups, func(b config.Backup) bool {
			return all || b.Domain == domain
		})
		if len(c.Cloud.Backups) == 0 {
			c.Cloud.Backups = nil
		}
		return nil
	})
}

// runCloudUnbind sends the code and prints the controller's verdict. The
// code is an action, never stored; history keeps it masked.
func runCloudUnbind(e *invocation) error {
	verdict, err := e.s.dev.Unbind(e.ctx, e.arg("code"))
	if err != nil {
		return err
	}
	if verdict != "" {
		e.println(verdict)
	}
	return nil
}

func runResetCloudTunnel(e *invocation) error {
	return e.s.dev.ResetCloudTunnel(e.ctx)
}

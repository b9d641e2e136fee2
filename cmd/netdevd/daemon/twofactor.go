package daemon

import (
	"errors"
	"slices"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/totp"
)

var errNoBackupCode = errors.New("no such backup code")

// consumeBackupCode is sshd's Options.ConsumeBackupCode: it removes the
// backup code from user's unused ones in the running configuration, in one
// store update (so two logins cannot both use it), and reports whether it
// was one. Like every change, it reaches startup.cfg only with `save`.
func (d *Daemon) consumeBackupCode(user, code string) bool {
	err := d.store.Update(func(c *config.Config) error {
		u, ok := c.User(user)
		if !ok {
			return errNoBackupCode
		}
		i := totp.MatchBackupCode(u.BackupCodeHashes, code)
		if i < 0 {
			return errNoBackupCode
		}
		u.BackupCodeHashes = slices.Delete(slices.Clone(u.BackupCodeHashes), i, i+1)
		if len(u.BackupCodeHashes) == 0 {
			u.BackupCodeHashes = nil
		}
		return nil
	})
	return err == nil
}

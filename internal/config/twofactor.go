package config

import (
	"fmt"

	"github.com/netdevd/netdevd/internal/totp"
)

// validTwoFactor checks a user's stored TOTP secret and backup codes.
func validTwoFactor(u LocalUser) error {
	if u.TOTPSecret != "" && !totp.ValidSealed(u.TOTPSecret) {
		return fmt.Errorf("local-user %s: bad two-factor secret", u.Name)
	}
	if len(u.BackupCodeHashes) > totp.BackupCodes {
		return fmt.Errorf("local-user %s: %d backup codes, at most %d", u.Name, len(u.BackupCodeHashes), totp.BackupCodes)
	}
	for _, h := range u.BackupCodeHashes {
		if !totp.ValidBackupHash(h) {
			return fmt.Errorf("local-user %s: bad backup code hash", u.Name)
		}
	}
	return nil
}

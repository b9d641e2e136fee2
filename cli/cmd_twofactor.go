package cli

import (
	"slices"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/totp"
)

// Two-factor authentication of a local user (ours; Comware has no TOTP):
//
//	two-factor totp enable                  make a secret and 8 backup codes, show them once
//	two-factor totp secret cipher CIPHER    the sealed secret, as the configuration stores it
//	two-factor totp backup-code hash HASH   one unused backup code, as stored
//	undo two-factor totp                    no second factor; forget secret and codes
//
// The secret and the codes are shown by `enable` only, never again; the
// configuration holds the sealed secret and the codes' hashes (internal/totp).

var (
	totpCipherValue = text(1, 255, nil)
	backupHashValue = text(1, 255, nil)
)

func twoFactorCommand() *node {
	return kw("two-factor", "Specify two-factor authentication of the local user",
		kw("totp", "Time-based one-time password (RFC 6238) as the second factor",
			kw("backup-code", "Specify a one-time backup code",
				kw("hash", "Specify a hashed backup code",
					val("hash", backupHashValue, "Hashed backup code").does(runBackupCodeHash))),
			kw("enable", "Enable TOTP and show a new secret and backup codes once").does(runTwoFactorEnable),
			kw("secret", "Specify the TOTP secret",
				kw("cipher", "Specify the secret in its stored (sealed) form",
					&node{value: totpCipherValue, name: "cipher", help: "Sealed secret", secret: true, run: runTOTPSecretCipher}))))
}

func undoTwoFactorCommand() *node {
	return kw("two-factor", "Specify two-factor authentication of the local user",
		kw("totp", "Time-based one-time password (RFC 6238) as the second factor").does(runUndoTwoFactor))
}

// runTwoFactorEnable makes the secret and the codes outside the change (it
// may run again) and prints them only once the change is stored.
func runTwoFactorEnable(e *invocation) error {
	secret, err := totp.NewSecret()
	if err != nil {
		return err
	}
	sealed, err := totp.Seal(secret)
	if err != nil {
		return err
	}
	codes, hashes, err := totp.NewBackupCodes(totp.BackupCodes)
	if err != nil {
		return err
	}
	name := e.s.view.user
	if err := e.updateUserErr(func(u *config.LocalUser) error {
		if u.TOTPSecret != "" {
			return failure("Two-factor authentication is already enabled for the local user. Use undo two-factor totp first.")
		}
		u.TOTPSecret, u.BackupCodeHashes = sealed, slices.Clone(hashes)
		return nil
	}); err != nil {
		return err
	}
	e.println("Add this key to an authenticator app (TOTP, SHA1, 6 digits, 30 seconds).")
	e.println("It is shown only now:")
	e.println(totp.URI(name, secret))
	e.println("Secret: " + totp.Base32(secret))
	e.println("One-time backup codes, each valid once (shown only now):")
	for _, c := range codes {
		e.println("  " + c)
	}
	return nil
}

func runTOTPSecretCipher(e *invocation) error {
	sealed := e.arg("cipher")
	if !totp.ValidSealed(sealed) {
		return e.wrongParameter("cipher")
	}
	return e.updateUserErr(func(u *config.LocalUser) error {
		u.TOTPSecret = sealed
		return nil
	})
}

// runBackupCodeHash adds one stored backup code (a configuration line);
// the same hash again is kept once.
func runBackupCodeHash(e *invocation) error {
	h := e.arg("hash")
	if !totp.ValidBackupHash(h) {
		return e.wrongParameter("hash")
	}
	return e.updateUserErr(func(u *config.LocalUser) error {
		if slices.Contains(u.BackupCodeHashes, h) {
			return nil
		}
		if len(u.BackupCodeHashes) >= totp.BackupCodes {
			return failure("The number of backup codes reached the upper limit.")
		}
		u.BackupCodeHashes = append(slices.Clone(u.BackupCodeHashes), h)
		return nil
	})
}

func runUndoTwoFactor(e *invocation) error {
	return e.updateUserErr(func(u *config.LocalUser) error {
		u.TOTPSecret, u.BackupCodeHashes = "", nil
		return nil
	})
}

// twoFactorLines are the user's rendered two-factor lines (after public keys).
func twoFactorLines(u config.LocalUser) []string {
	var lines []string
	if u.TOTPSecret != "" {
		lines = append(lines, " two-factor totp secret cipher "+u.TOTPSecret)
	}
	for _, h := range u.BackupCodeHashes {
		lines = append(lines, " two-factor totp backup-code hash "+h)
	}
	return lines
}

// updateUserErr is updateUser with a change that may refuse.
func (e *invocation) updateUserErr(change func(u *config.LocalUser) error) error {
	name := e.s.view.user
	return e.update(func(c *config.Config) error {
		u, ok := c.User(name)
		if !ok {
			return failure("The local user " + name + " does not exist.")
		}
		return change(u)
	})
}

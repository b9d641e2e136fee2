package config

import (
	"testing"

	"github.com/netdevd/netdevd/internal/totp"
)

func TestValidateTwoFactor(t *testing.T) {
	sealed, _ := totp.Seal([]byte("12345678901234567890"))
	_, hashes, _ := totp.NewBackupCodes(9)
	good := LocalUser{Name: "u", TOTPSecret: sealed, BackupCodeHashes: hashes[:8]}
	for name, u := range map[string]LocalUser{
		"bad secret":     {Name: "u", TOTPSecret: "JBSWY3DPEHPK3PXP"},
		"bad hash":       {Name: "u", BackupCodeHashes: []string{"plain"}},
		"too many codes": {Name: "u", BackupCodeHashes: hashes},
	} {
		c := Default()
		c.LocalUsers = []LocalUser{u}
		if c.Validate() == nil {
			t.Errorf("%s accepted", name)
		}
	}
	c := Default()
	c.LocalUsers = []LocalUser{good}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	cl := c.Clone()
	cl.LocalUsers[0].BackupCodeHashes[0] = "x"
	if c.LocalUsers[0].BackupCodeHashes[0] == "x" {
		t.Error("Clone shares backup code hashes")
	}
}

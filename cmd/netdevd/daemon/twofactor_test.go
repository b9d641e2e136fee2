package daemon

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/totp"
)

func TestConsumeBackupCode(t *testing.T) {
	d, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	codes, hashes, _ := totp.NewBackupCodes(3)
	sealed, _ := totp.Seal([]byte("12345678901234567890"))
	if err := d.store.Update(func(c *config.Config) error {
		c.LocalUsers = append(c.LocalUsers, config.LocalUser{Name: "ops", TOTPSecret: sealed, BackupCodeHashes: hashes})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d.consumeBackupCode("ghost", codes[0]) || d.consumeBackupCode("ops", "zzzzzzzzzz") {
		t.Fatal("a wrong user or code consumed")
	}
	// Many logins racing with one code: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d.consumeBackupCode("ops", codes[1]) {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	cfg, _ := d.store.Get()
	u, _ := cfg.User("ops")
	if wins.Load() != 1 || len(u.BackupCodeHashes) != 2 || totp.MatchBackupCode(u.BackupCodeHashes, codes[1]) != -1 {
		t.Fatalf("wins %d, hashes %v", wins.Load(), u.BackupCodeHashes)
	}
	if !d.consumeBackupCode("ops", codes[0]) || !d.consumeBackupCode("ops", codes[2]) {
		t.Fatal("unused codes refused")
	}
	cfg, _ = d.store.Get()
	if u, _ := cfg.User("ops"); u.BackupCodeHashes != nil || u.TOTPSecret != sealed {
		t.Fatalf("after all codes: %+v", u)
	}
}

package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/totp"
)

var otpauthRE = regexp.MustCompile(`otpauth://totp/netdevd:(\S+)\?secret=([A-Z2-7]+)&issuer=netdevd`)

func TestTwoFactorEnable(t *testing.T) {
	s, d := newTestSession(admin)
	out, ok := run(t, s, "system-view", "local-user admin class manage", "two-factor totp enable")
	if !ok {
		t.Fatalf("enable failed:\n%s", out)
	}
	m := otpauthRE.FindStringSubmatch(out)
	if m == nil || m[1] != "admin" {
		t.Fatalf("no otpauth URI in:\n%s", out)
	}
	var codes []string
	for _, l := range strings.Split(out, "\n") {
		if c := strings.TrimSpace(l); strings.HasPrefix(l, "  ") && len(c) == totp.BackupCodeLen {
			codes = append(codes, c)
		}
	}
	if len(codes) != 8 {
		t.Fatalf("backup codes %v in:\n%s", codes, out)
	}
	u, _ := d.cfg.User("admin")
	secret, err := totp.Open(u.TOTPSecret)
	if err != nil || totp.Base32(secret) != m[2] {
		t.Fatalf("stored secret does not match the URI: %v", err)
	}
	if len(u.BackupCodeHashes) != 8 || totp.MatchBackupCode(u.BackupCodeHashes, codes[3]) != 3 {
		t.Fatalf("backup hashes %v", u.BackupCodeHashes)
	}
	// Never shown again: not in the configuration, display this, history.
	text := Render(d.cfg)
	this, _ := run(t, s, "display this")
	hist, _ := run(t, s, "display history-command")
	for _, shown := range []string{text, this, hist} {
		if strings.Contains(shown, m[2]) || strings.Contains(shown, codes[0]) {
			t.Errorf("secret or code shown again:\n%s", shown)
		}
	}
	if !strings.Contains(this, " two-factor totp secret cipher $t$1$") || strings.Count(this, " two-factor totp backup-code hash $b$") != 8 {
		t.Errorf("display this:\n%s", this)
	}
	if h := s.History(); !strings.Contains(strings.Join(h, "\n"), "two-factor totp enable") {
		t.Errorf("history %v", h)
	}
	// A second enable is refused and changes nothing.
	before := Render(d.cfg)
	out, ok = run(t, s, "two-factor totp enable")
	if ok || !strings.Contains(out, "already enabled") || otpauthRE.MatchString(out) || Render(d.cfg) != before {
		t.Errorf("second enable: ok=%v\n%s", ok, out)
	}
	// Replay keeps the secret and the hashes.
	fresh := newFakeDevice()
	if errs := Replay(context.Background(), fresh, text); len(errs) != 0 {
		t.Fatalf("replay: %v", errs)
	}
	fu, _ := fresh.cfg.User("admin")
	got, err := totp.Open(fu.TOTPSecret)
	if err != nil || string(got) != string(secret) || len(fu.BackupCodeHashes) != 8 || Render(fresh.cfg) != text {
		t.Fatalf("replayed user %+v", fu)
	}
	now := time.Now()
	if _, ok := totp.Verify(got, totp.Code(secret, now), now, 0); !ok {
		t.Error("replayed secret does not verify")
	}
	// undo forgets everything.
	if out, ok := run(t, s, "undo two-factor totp"); !ok {
		t.Fatal(out)
	}
	if u, _ := d.cfg.User("admin"); u.TOTPSecret != "" || u.BackupCodeHashes != nil || strings.Contains(Render(d.cfg), "two-factor") {
		t.Errorf("after undo: %+v", u)
	}
	if out, ok := run(t, s, "two-factor totp enable"); !ok || !otpauthRE.MatchString(out) {
		t.Errorf("enable after undo: %s", out)
	}
}

func TestTwoFactorStoredForms(t *testing.T) {
	sealed, _ := totp.Seal([]byte("12345678901234567890"))
	h, _ := totp.HashBackupCode("abcdefghij")
	s, d := newTestSession(admin)
	run(t, s, "system-view", "local-user ops class manage")
	for _, bad := range []string{"two-factor totp secret cipher notacipher", "two-factor totp secret cipher " + sealed[:len(sealed)-4] + "AAAA",
		"two-factor totp backup-code hash $b$x$y"} {
		if out, ok := run(t, s, bad); ok || !strings.Contains(out, "Wrong parameter") {
			t.Errorf("%q: ok=%v %s", bad, ok, out)
		}
	}
	run(t, s, "two-factor totp secret cipher "+sealed, "two-factor totp backup-code hash "+h, "two-factor totp backup-code hash "+h)
	if hist := s.History(); !strings.HasSuffix(strings.Join(hist, "\n"), "two-factor totp secret cipher ******\ntwo-factor totp backup-code hash "+h) {
		t.Errorf("history %v", hist)
	}
	u, _ := d.cfg.User("ops")
	if u.TOTPSecret != sealed || len(u.BackupCodeHashes) != 1 {
		t.Errorf("%+v", u)
	}
	for i := 0; i < 7; i++ {
		hh, _ := totp.HashBackupCode("abcdefghij")
		run(t, s, "two-factor totp backup-code hash "+hh)
	}
	hh, _ := totp.HashBackupCode("abcdefghij")
	if out, ok := run(t, s, "two-factor totp backup-code hash "+hh); ok || !strings.Contains(out, "upper limit") {
		t.Errorf("9th code: %v %s", ok, out)
	}
}

// Fixed stored forms for the round-trip generator.
var testTOTPCipher, testBackupHash = func() ([]string, []string) {
	var ciphers, hashes []string
	for _, s := range []string{"12345678901234567890", "abcdefghijklmnopqrst"} {
		c, _ := totp.Seal([]byte(s))
		ciphers = append(ciphers, c)
	}
	for _, c := range []string{"aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc"} {
		h, _ := totp.HashBackupCode(c)
		hashes = append(hashes, h)
	}
	return ciphers, hashes
}()

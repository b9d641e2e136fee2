package tests

import (
	"encoding/base32"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/totp"
)

// TestTOTPLogin: an administrator turns on TOTP with `netdevd exec`, reads
// the otpauth URI and the backup codes from the output once, and logs in
// over SSH with password + verification code (computed at login time: the
// daemon uses the real clock).
func TestTOTPLogin(t *testing.T) {
	d := startSSHDevice(t)
	out := d.mustExec("system-view", "local-user admin class manage", "two-factor totp enable")
	m := regexp.MustCompile(`otpauth://totp/\S+`).FindString(out)
	if m == "" {
		t.Fatalf("no otpauth URI in:\n%s", out)
	}
	uri, err := url.Parse(m)
	if err != nil || uri.Path != "/netdevd:admin" || uri.Query().Get("issuer") != "netdevd" {
		t.Fatalf("URI %q: %v", m, err)
	}
	b32 := uri.Query().Get("secret")
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
	if err != nil || len(secret) < 16 {
		t.Fatalf("secret %q: %v", b32, err)
	}
	var codes []string
	for _, l := range strings.Split(out, "\n") {
		if c := strings.TrimSpace(l); strings.HasPrefix(l, "  ") && len(c) == 10 {
			codes = append(codes, c)
		}
	}
	if len(codes) != 8 {
		t.Fatalf("backup codes %q in:\n%s", codes, out)
	}
	dial := func(answer func() string) (*ssh.Client, error) {
		return ssh.Dial("tcp", d.sshAddr, &ssh.ClientConfig{
			User: "admin",
			Auth: []ssh.AuthMethod{ssh.Password(adminPassword),
				ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
					if len(q) != 1 || q[0] != "Verification code: " {
						t.Errorf("questions %q", q)
					}
					return []string{answer()}, nil
				})},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
		})
	}
	// The password alone no longer logs in.
	if c, err := ssh.Dial("tcp", d.sshAddr, &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.Password(adminPassword)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}); err == nil {
		c.Close()
		t.Fatal("password alone logged in")
	}
	var used string
	c, err := dial(func() string { used = totp.Code(secret, time.Now()); return used })
	if err != nil {
		t.Fatalf("password + code: %v", err)
	}
	if out, code := sshExec(t, c, "display version"); code != 0 {
		t.Fatalf("exec after login: %d\n%s", code, out)
	}
	c.Close()
	// The same code again is refused.
	if c, err := dial(func() string { return used }); err == nil {
		c.Close()
		t.Fatal("a TOTP code was accepted twice")
	}
	// A backup code works once, and the running configuration forgets it.
	c, err = dial(func() string { return codes[2] })
	if err != nil {
		t.Fatalf("backup code: %v", err)
	}
	c.Close()
	if c, err := dial(func() string { return codes[2] }); err == nil {
		c.Close()
		t.Fatal("a backup code worked twice")
	}
	cur := d.mustExec("display current-configuration")
	if n := strings.Count(cur, " two-factor totp backup-code hash "); n != 7 || !strings.Contains(cur, " two-factor totp secret cipher $t$1$") {
		t.Fatalf("%d backup codes left:\n%s", n, cur)
	}
	// Nothing secret reached the logs.
	logs := d.mustExec("display logbuffer")
	if !strings.Contains(logs, "wrong verification code") || !strings.Contains(logs, "SSHS_BACKUP_CODE_USED") {
		t.Fatalf("log lines missing:\n%s", logs)
	}
	for _, s := range append([]string{b32, used, adminPassword}, codes...) {
		if strings.Contains(logs, s) || strings.Contains(d.stderr.String(), s) || strings.Contains(strings.ToLower(d.stderr.String()), s) || strings.Contains(cur, s) {
			t.Fatalf("%q reached a log or the configuration", s)
		}
	}
	// A saved configuration keeps the second factor across a restart.
	d.mustExec("save force")
	d.stop()
	d.start()
	c, err = dial(func() string { return codes[5] })
	if err != nil {
		t.Fatalf("backup code after restart: %v", err)
	}
	c.Close()
	// undo two-factor totp: the password alone is enough again.
	d.mustExec("system-view", "local-user admin class manage", "undo two-factor totp")
	dialSSH(t, d.sshAddr, "admin", adminPassword).Close()
}

package sshd

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/totp"
)

var tfSecret = []byte("12345678901234567890")

// tfHarness: admin and keyuser have TOTP and two backup codes; the clock is
// fixed; ConsumeBackupCode works on the harness configuration like the
// daemon's does on its store.
func tfHarness(t *testing.T) (*harness, *clock.Fake, []string) {
	t.Helper()
	fake := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 10, 0, time.UTC))
	sealed, err := totp.Seal(tfSecret)
	if err != nil {
		t.Fatal(err)
	}
	codes, hashes, _ := totp.NewBackupCodes(2)
	var h *harness
	var mu sync.Mutex
	h = newHarness(t, func(o *Options, c *config.Config) {
		o.Clock = fake
		for _, name := range []string{"admin", "keyuser"} {
			u, _ := c.User(name)
			u.TOTPSecret, u.BackupCodeHashes = sealed, hashes
		}
		o.ConsumeBackupCode = func(user, code string) bool {
			mu.Lock()
			defer mu.Unlock()
			used := false
			h.setConfig(func(c *config.Config) {
				u, ok := c.User(user)
				if !ok {
					return
				}
				if i := totp.MatchBackupCode(u.BackupCodeHashes, code); i >= 0 {
					u.BackupCodeHashes = append(u.BackupCodeHashes[:i:i], u.BackupCodeHashes[i+1:]...)
					used = true
				}
			})
			return used
		}
	})
	return h, fake, codes
}

// answering is a keyboard-interactive client that answers code and records
// what it was asked.
type answering struct {
	code      string
	questions []string
	echos     []bool
}

func (a *answering) method() gossh.AuthMethod {
	return gossh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		a.questions, a.echos = append(a.questions, questions...), append(a.echos, echos...)
		answers := make([]string, len(questions))
		for i := range answers {
			answers[i] = a.code
		}
		return answers, nil
	})
}

func (h *harness) login2FA(user string, first gossh.AuthMethod, code string) (*answering, error) {
	a := &answering{code: code}
	c, err := h.dial(user, first, a.method())
	if err == nil {
		sess, serr := c.NewSession()
		if serr == nil {
			_, serr = sess.Output("display clock")
		}
		c.Close()
		if serr != nil {
			h.t.Fatalf("session after login: %v", serr)
		}
	}
	return a, err
}

func TestTwoFactorTOTP(t *testing.T) {
	h, fake, _ := tfHarness(t)
	pw := gossh.Password(testPassword)
	// The password alone is not enough.
	if _, err := h.dial("admin", pw); err == nil {
		t.Fatal("logged in without a verification code")
	}
	if strings.Contains(h.logText(), "SHELL_LOGIN") {
		t.Fatalf("partial success logged as a login:\n%s", h.logText())
	}
	// Right code: logged in; one prompt, echo off.
	code := totp.Code(tfSecret, fake.Now())
	a, err := h.login2FA("admin", pw, code)
	if err != nil {
		t.Fatalf("right code refused: %v", err)
	}
	if len(a.questions) != 1 || a.questions[0] != "Verification code: " || a.echos[0] {
		t.Fatalf("prompts %q echo %v", a.questions, a.echos)
	}
	// The same code again, in the same window: refused.
	if _, err := h.login2FA("admin", pw, code); err == nil {
		t.Fatal("a code was accepted twice")
	}
	// Wrong code: refused and logged without the code.
	wrong := "000000"
	if wrong == totp.Code(tfSecret, fake.Now().Add(totp.Step)) {
		wrong = "000001"
	}
	if _, err := h.login2FA("admin", pw, wrong); err == nil {
		t.Fatal("wrong code accepted")
	}
	// Wrong password with a right code: refused, no prompt.
	a, err = h.login2FA("admin", gossh.Password("nope-nope"), totp.Code(tfSecret, fake.Now().Add(totp.Step)))
	if err == nil || len(a.questions) != 0 {
		t.Fatalf("wrong password: err %v, prompts %q", err, a.questions)
	}
	// Clock skew: next step's code is accepted now (±1 step), the one after not.
	if _, err := h.login2FA("admin", pw, totp.Code(tfSecret, fake.Now().Add(2*totp.Step))); err == nil {
		t.Fatal("a code two steps ahead accepted")
	}
	if _, err := h.login2FA("admin", pw, totp.Code(tfSecret, fake.Now().Add(totp.Step))); err != nil {
		t.Fatalf("next step's code refused: %v", err)
	}
	// Once a later step was used, an earlier one is refused.
	fake.Advance(totp.Step)
	if _, err := h.login2FA("admin", pw, totp.Code(tfSecret, fake.Now().Add(-totp.Step))); err == nil {
		t.Fatal("an older code accepted after a newer one")
	}
	fake.Advance(totp.Step)
	if _, err := h.login2FA("admin", pw, totp.Code(tfSecret, fake.Now())); err != nil {
		t.Fatalf("a fresh code refused: %v", err)
	}
	logs := h.logText()
	if !strings.Contains(logs, "SSHS_AUTH_FAIL: SSH user admin failed to log in from 127.0.0.1: wrong verification code.") {
		t.Fatalf("wrong code not logged:\n%s", logs)
	}
	if !strings.Contains(logs, "SHELL/5/SHELL_LOGIN: admin logged in from 127.0.0.1.") {
		t.Fatalf("login not logged:\n%s", logs)
	}
	for _, secret := range []string{code, wrong, totp.Base32(tfSecret), testPassword} {
		if strings.Contains(logs, secret) {
			t.Fatalf("%q reached the log:\n%s", secret, logs)
		}
	}
}

func TestTwoFactorKeyAndBackupCodes(t *testing.T) {
	h, fake, codes := tfHarness(t)
	key := gossh.PublicKeys(h.clientK)
	if _, err := h.dial("keyuser", key); err == nil {
		t.Fatal("key alone logged in")
	}
	if _, err := h.login2FA("keyuser", key, totp.Code(tfSecret, fake.Now())); err != nil {
		t.Fatalf("key + code: %v", err)
	}
	// A backup code works once (typed in upper case with a dash), and is
	// removed from the configuration.
	typed := strings.ToUpper(codes[0][:5]) + "-" + codes[0][5:]
	if _, err := h.login2FA("admin", gossh.Password(testPassword), typed); err != nil {
		t.Fatalf("backup code: %v", err)
	}
	cfg := h.cfg.Load()
	if u, _ := cfg.User("admin"); len(u.BackupCodeHashes) != 1 || totp.MatchBackupCode(u.BackupCodeHashes, codes[1]) != 0 {
		t.Fatalf("hashes after use: %v", u.BackupCodeHashes)
	}
	if _, err := h.login2FA("admin", gossh.Password(testPassword), codes[0]); err == nil {
		t.Fatal("a backup code worked twice")
	}
	logs := h.logText()
	if !strings.Contains(logs, "SSHS_BACKUP_CODE_USED: SSH user admin used a one-time backup code from 127.0.0.1.") {
		t.Fatalf("backup code use not logged:\n%s", logs)
	}
	if strings.Contains(logs, codes[0]) || strings.Contains(strings.ToLower(logs), codes[0][5:]) {
		t.Fatalf("backup code in the log:\n%s", logs)
	}
	// Turning two-factor off: the password alone is enough again.
	h.setConfig(func(c *config.Config) {
		u, _ := c.User("admin")
		u.TOTPSecret, u.BackupCodeHashes = "", nil
	})
	c, err := h.dial("admin", gossh.Password(testPassword))
	if err != nil {
		t.Fatalf("after undo: %v", err)
	}
	c.Close()
}

// Wrong codes count toward the per-source penalty like wrong passwords.
func TestTwoFactorPenalty(t *testing.T) {
	h, fake, _ := tfHarness(t)
	bad := "999999"
	for d := -1; d <= 1; d++ {
		if totp.Code(tfSecret, fake.Now().Add(time.Duration(d)*totp.Step)) == bad {
			bad = "999998"
		}
	}
	for i := 0; i < 5; i++ {
		h.login2FA("admin", gossh.Password(testPassword), bad)
	}
	waitFor(t, 2*time.Second, "block", func() bool { return strings.Contains(h.logText(), "SSHS_SRC_BLOCKED") })
	// Blocked: even the right code is refused now.
	if _, err := h.login2FA("admin", gossh.Password(testPassword), totp.Code(tfSecret, fake.Now())); err == nil {
		t.Fatal("login from a blocked source")
	}
}

// OpenSSH's client: key, then the code through keyboard-interactive (its
// SSH_ASKPASS answers the prompt).
func TestTwoFactorOpenSSH(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no OpenSSH client: scripts/install-test-deps.sh installs it")
		}
		t.Skip("no OpenSSH client")
	}
	h, fake, _ := tfHarness(t)
	dir := t.TempDir()
	block, err := gossh.MarshalPrivateKey(h.clientP, "")
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(dir, "id_ed25519")
	askpass := filepath.Join(dir, "askpass")
	prompts := filepath.Join(dir, "prompts")
	os.WriteFile(idFile, pem.EncodeToMemory(block), 0o600)
	os.WriteFile(askpass, []byte("#!/bin/sh\necho \"$1\" >> "+prompts+"\necho "+totp.Code(tfSecret, fake.Now())+"\n"), 0o700)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshBin, "-F", "/dev/null", "-i", idFile, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "PreferredAuthentications=publickey,keyboard-interactive",
		"-p", fmt.Sprint(h.srv.Addr().(*net.TCPAddr).Port), "keyuser@127.0.0.1", "display clock")
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	asked, _ := os.ReadFile(prompts)
	if err != nil || !strings.Contains(string(out), "exec[keyuser network-operator VTY 0]: display clock") {
		t.Fatalf("ssh: %v\n%s\nprompts: %q", err, out, asked)
	}
	if !strings.Contains(string(asked), "Verification code:") {
		t.Fatalf("prompts %q", asked)
	}
}

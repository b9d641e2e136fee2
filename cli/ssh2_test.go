package cli

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

func TestSSH2AlgorithmLists(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	// Order typed = preference, kept as typed; abbreviations and any case.
	run(t, s, "ssh2 algorithm cipher aes256-ctr AES128-GCM", "ssh2 al key dh-group14-sha1 curve", "ssh2 algorithm mac sha2-512 sha1",
		"ssh2 algorithm public-key rsa-sha2-512 ed25519")
	want := []string{
		" ssh2 algorithm cipher aes256-ctr aes128-gcm",
		" ssh2 algorithm key-exchange dh-group14-sha1 curve25519-sha256",
		" ssh2 algorithm mac sha2-512 sha1",
		" ssh2 algorithm public-key rsa-sha2-512 ed25519",
	}
	out, _ := run(t, s, "display current-configuration | include ssh2")
	if out != strings.Join(want, "\n")+"\n" {
		t.Errorf("current configuration:\n%s", out)
	}
	if got := d.cfg.SSH2.Cipher; !slices.Equal(got, []string{"aes256-ctr", "aes128-gcm"}) {
		t.Errorf("model %q", got)
	}
	// A new list replaces the old one; undo restores the default.
	run(t, s, "ssh2 algorithm cipher chacha20-poly1305", "undo ssh2 algorithm key-exchange", "undo ssh2 algorithm mac",
		"undo ssh2 algorithm public-key")
	if out, _ := run(t, s, "display current-configuration | include ssh2"); out != " ssh2 algorithm cipher chacha20-poly1305\n" {
		t.Errorf("after undo:\n%s", out)
	}
	// The default list typed out is the default: nothing to show.
	run(t, s, "ssh2 algorithm cipher "+strings.Join(config.SSH2Cipher.Default(), " "))
	if d.cfg.SSH2.Cipher != nil || strings.Contains(Render(d.cfg), "ssh2") {
		t.Errorf("default list stored as %q:\n%s", d.cfg.SSH2.Cipher, Render(d.cfg))
	}
	// Undoing what is not configured is silent.
	if out, ok := run(t, s, "undo ssh2 algorithm cipher"); !ok || out != "" {
		t.Errorf("undo of the default: %v %q", ok, out)
	}
}

func TestSSH2AlgorithmErrors(t *testing.T) {
	// [netdevd] is 9 wide.
	for _, tt := range []struct{ line, want string }{
		{"ssh2 algorithm cipher", caret(9+21, incomplete)},
		{"ssh2 algorithm cipher ", caret(9+21, incomplete)},
		{"ssh2 algorithm", caret(9+14, incomplete)},
		{"ssh2 algorithm cipher des-cbc", caret(9+22, unrecognized)},
		{"ssh2 algorithm cipher aes256-cbc", caret(9+22, unrecognized)},
		{"ssh2 algorithm mac md5", caret(9+19, unrecognized)},
		{"ssh2 algorithm public-key dsa", caret(9+26, unrecognized)},
		{"ssh2 algorithm public-key x509v3-ecdsa-sha2-nistp256", caret(9+26, unrecognized)},
		// Each algorithm once.
		{"ssh2 algorithm cipher aes128-ctr aes128-ctr", caret(9+33, unrecognized)},
		{"ssh2 algorithm mac sha1-96 sha2-256 SHA1-96", caret(9+36, unrecognized)},
		{"ssh2 algorithm mac sha1 sha2-256 SHA1", caret(9+33, unrecognized)}, // not sha1-96 by prefix
		{"ssh2 algorithm public-key ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 ed25519 rsa rsa-sha2-256 rsa-sha2-512 rsa",
			caret(9+124, tooMany)},
		{"ssh2 algorithm cipher aes", caret(9+22, ambiguous)},
		{"ssh2 algorithm cipher aes128-ctr aes1", caret(9+33, ambiguous)},
		{"ssh2 algorithm key-exchange ecdh", caret(9+28, ambiguous)},
		{"ssh2 algorithm cypher aes128-ctr", caret(9+15, unrecognized)},
		{"undo ssh2 algorithm cipher aes128-ctr", caret(9+27, tooMany)},
		{"undo ssh2 algorithm", caret(9+19, incomplete)},
		{"ss server enable", caret(9, ambiguous)},
	} {
		s, d := newTestSession(admin)
		run(t, s, "system-view", "ssh2 algorithm cipher aes256-gcm")
		before := Render(d.cfg)
		out, ok := run(t, s, tt.line)
		if ok || out != tt.want {
			t.Errorf("%q: ok=%v\n%s\nwant\n%s", tt.line, ok, out, tt.want)
		}
		if Render(d.cfg) != before {
			t.Errorf("%q changed the configuration", tt.line)
		}
	}
	// Operators may look, not change.
	s, _ := newTestSession(operator)
	s.view = view{kind: viewSystem}
	for _, line := range []string{"ssh2 algorithm cipher aes128-ctr", "undo ssh2 algorithm cipher"} {
		if out, ok := run(t, s, line); ok || out != "Permission denied.\n" {
			t.Errorf("operator %q: %v %q", line, ok, out)
		}
	}
}

func TestSSH2AlgorithmHelp(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view")
	ctx := context.Background()
	if got := s.Help(ctx, "ssh2 algorithm "); got != "  cipher        Specify encryption algorithms\n"+
		"  key-exchange  Specify key exchange algorithms\n"+
		"  mac           Specify MAC algorithms\n"+
		"  public-key    Specify public key algorithms\n" {
		t.Errorf("help:\n%s", got)
	}
	all := s.Help(ctx, "ssh2 algorithm mac ")
	if all != "  sha1          MAC algorithm hmac-sha1\n"+
		"  sha1-96       MAC algorithm hmac-sha1-96\n"+
		"  sha2-256      MAC algorithm hmac-sha2-256\n"+
		"  sha2-256-etm  MAC algorithm hmac-sha2-256-etm@openssh.com\n"+
		"  sha2-512      MAC algorithm hmac-sha2-512\n"+
		"  sha2-512-etm  MAC algorithm hmac-sha2-512-etm@openssh.com\n" {
		t.Errorf("mac help:\n%s", all)
	}
	// After some members: the others, and <cr>.
	if got := s.Help(ctx, "ssh2 algorithm mac sha2-256-etm sha1 "); got != "  sha1-96       MAC algorithm hmac-sha1-96\n"+
		"  sha2-256      MAC algorithm hmac-sha2-256\n"+
		"  sha2-512      MAC algorithm hmac-sha2-512\n"+
		"  sha2-512-etm  MAC algorithm hmac-sha2-512-etm@openssh.com\n"+
		"  <cr>\n" {
		t.Errorf("help after two members:\n%s", got)
	}
	if got := s.Help(ctx, "ssh2 algorithm key-exchange ml"); got != "  mlkem768x25519-sha256  Key exchange algorithm mlkem768x25519-sha256\n" {
		t.Errorf("partial help:\n%s", got)
	}
	if got := s.Complete("ssh2 algorithm cipher aes128-ctr aes1"); !slices.Equal(got, []string{"aes128-cbc", "aes128-gcm", "aes192-ctr"}) {
		t.Errorf("complete %q", got)
	}
	if got := s.Complete("ssh2 algorithm public-key ed25519 rsa-sha2-256 rsa"); !slices.Equal(got, []string{"rsa", "rsa-sha2-512"}) {
		t.Errorf("complete %q", got)
	}
}

func TestDisplaySSHServerStatus(t *testing.T) {
	s, _ := newTestSession(operator)
	want := " Stelnet server: Disable\n" +
		" SSH version : 2.0\n" +
		" SSH authentication-timeout : 60 second(s)\n" +
		" SSH server key generating interval : 0 hour(s)\n" +
		" SSH authentication retries : 3 time(s)\n" +
		" SFTP server: Disable\n" +
		" SFTP server Idle-Timeout: 10 minute(s)\n" +
		" NETCONF server: Disable\n" +
		" SCP server: Disable\n" +
		" Key exchange algorithms: mlkem768x25519-sha256 curve25519-sha256 dh-group14-sha256\n" +
		" Public key algorithms: ed25519\n" +
		" Encryption algorithms: chacha20-poly1305 aes128-gcm aes256-gcm aes128-ctr aes192-ctr aes256-ctr\n" +
		" MAC algorithms: sha2-256-etm sha2-512-etm\n"
	if out, ok := run(t, s, "display ssh server status"); !ok || out != want {
		t.Errorf("default status:\n%s", out)
	}
	a, _ := newTestSession(admin)
	a.dev = s.dev
	run(t, a, "system-view", "ssh server enable", "ssh server authentication-retries 5", "ssh server authentication-timeout 30",
		"ssh2 algorithm key-exchange dh-group14-sha1", "ssh2 algorithm mac sha1 sha2-256")
	out, _ := run(t, s, "dis ssh ser st")
	for _, line := range []string{" Stelnet server: Enable\n", " SSH authentication-timeout : 30 second(s)\n",
		" SSH authentication retries : 5 time(s)\n", " Key exchange algorithms: dh-group14-sha1\n", " MAC algorithms: sha1 sha2-256\n",
		" Encryption algorithms: chacha20-poly1305 aes128-gcm aes256-gcm aes128-ctr aes192-ctr aes256-ctr\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("status lacks %q:\n%s", line, out)
		}
	}
	if out, _ := run(t, s, "display ssh2 algorithm | include Key"); out != "Key exchange algorithms: dh-group14-sha1\n" {
		t.Errorf("display ssh2 algorithm: %q", out)
	}
}

// TestSSH2CatalogIsSorted: help lists sort anyway, but the catalog's order
// is what the reference shows; keep it ASCII so the two agree.
func TestSSH2CatalogIsSorted(t *testing.T) {
	for _, k := range config.SSH2Kinds {
		var words []string
		for _, a := range k.Algorithms() {
			words = append(words, a.Keyword)
		}
		if !slices.IsSorted(words) {
			t.Errorf("%s: %q not in ASCII order", k.Keyword(), words)
		}
	}
}

// FuzzSSH2Algorithm: any words after `ssh2 algorithm` either fail and
// change nothing, or store a valid list (known algorithms, each once, in
// the order typed) that renders and replays to the same configuration.
func FuzzSSH2Algorithm(f *testing.F) {
	for _, seed := range []string{"cipher aes128-ctr aes256-gcm", "mac sha1 sha1", "key-exchange ecdh", "public-key rsa rsa-sha2-256",
		"cipher AES128-C aes256-c", "mac sha2-256-etm sha2-512-etm", "cipher \t aes128-gcm", "mac ?", "cipher aes128-ctr | include x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		s, d := newTestSession(admin)
		run(t, s, "system-view")
		before := Render(d.cfg)
		line := "ssh2 algorithm " + rest
		term := &fakeTerminal{}
		if !s.Execute(context.Background(), line, term) {
			if Render(d.cfg) != before {
				t.Fatalf("failed line %q changed the configuration", line)
			}
			return
		}
		if err := d.cfg.Validate(); err != nil {
			t.Fatalf("%q stored an invalid configuration: %v", line, err)
		}
		text := Render(d.cfg)
		fresh := newFakeDevice()
		if errs := Replay(context.Background(), fresh, text); len(errs) != 0 || Render(fresh.cfg) != text {
			t.Fatalf("%q: round trip: %v\n%s\nvs\n%s", line, errs, text, Render(fresh.cfg))
		}
	})
}

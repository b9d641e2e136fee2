package config

import (
	"slices"
	"strings"
	"testing"
)

func TestSSH2Validate(t *testing.T) {
	for _, tt := range []struct {
		ssh2 SSH2
		bad  string // "" = valid
	}{
		{SSH2{}, ""},
		{SSH2{Cipher: []string{"aes128-ctr", "3des-cbc"}, MAC: []string{"sha1"}, KeyExchange: []string{"dh-group1-sha1"}, PublicKey: []string{"rsa"}}, ""},
		{SSH2{Cipher: []string{}}, "empty list"},
		{SSH2{MAC: []string{"md5"}}, `unknown algorithm "md5"`},
		{SSH2{PublicKey: []string{"ssh-ed25519"}}, `unknown algorithm "ssh-ed25519"`}, // the keyword is ed25519
		{SSH2{KeyExchange: []string{"dh-group14-sha256", "dh-group14-sha256"}}, "dh-group14-sha256 twice"},
	} {
		c := Default()
		c.SSH2 = tt.ssh2
		err := c.Validate()
		if (err == nil) != (tt.bad == "") || err != nil && !strings.Contains(err.Error(), tt.bad) {
			t.Errorf("%+v: %v, want %q", tt.ssh2, err, tt.bad)
		}
	}
}

func TestSSH2Lists(t *testing.T) {
	var s SSH2
	for _, k := range SSH2Kinds {
		if !slices.Equal(s.Effective(k), k.Default()) {
			t.Errorf("%s: effective %q without a list", k.Keyword(), s.Effective(k))
		}
		for _, d := range k.Default() {
			if _, ok := k.lookup(d); !ok {
				t.Errorf("%s: default %s is not a keyword", k.Keyword(), d)
			}
		}
	}
	s.SetList(SSH2Cipher, []string{"aes256-ctr", "aes128-gcm"})
	if got := SSH2Cipher.Names(s.Effective(SSH2Cipher)); !slices.Equal(got, []string{"aes256-ctr", "aes128-gcm@openssh.com"}) {
		t.Errorf("names %q", got)
	}
	// Clone is deep.
	c := Default()
	c.SSH2 = s
	d := c.Clone()
	d.SSH2.Cipher[0] = "3des-cbc"
	if c.SSH2.Cipher[0] != "aes256-ctr" {
		t.Error("Clone shares the cipher list")
	}
	// The default list typed out is stored as the default.
	s.SetList(SSH2Cipher, SSH2Cipher.Default())
	if s.Cipher != nil {
		t.Errorf("default list stored as %q", s.Cipher)
	}
}

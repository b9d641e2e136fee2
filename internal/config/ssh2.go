package config

import (
	"fmt"
	"slices"
)

// SSH2 is the `ssh2 algorithm …` lists: Comware keywords in order of
// preference. A nil list means the default list (SSH2Kind.Default); the
// grammar stores nil when the typed list equals the default, so only
// non-default lists are rendered.
type SSH2 struct {
	KeyExchange []string // `ssh2 algorithm key-exchange …`
	PublicKey   []string // `ssh2 algorithm public-key …` (host key algorithms)
	Cipher      []string // `ssh2 algorithm cipher …`
	MAC         []string // `ssh2 algorithm mac …`
}

// SSH2Kind is one of the four algorithm lists.
type SSH2Kind int

const (
	SSH2KeyExchange SSH2Kind = iota
	SSH2PublicKey
	SSH2Cipher
	SSH2MAC
)

// SSH2Kinds lists the kinds in the order `display ssh2 algorithm` shows them.
var SSH2Kinds = []SSH2Kind{SSH2KeyExchange, SSH2PublicKey, SSH2Cipher, SSH2MAC}

// SSH2Algorithm is one keyword of a list and the SSH protocol names it
// stands for (the first is the one shown in help).
type SSH2Algorithm struct {
	Keyword string
	Names   []string
}

type ssh2Catalog struct {
	keyword    string // the word after `ssh2 algorithm`
	label      string // "Key exchange", as display commands and help name it
	algorithms []SSH2Algorithm
	defaults   []string
}

// The keywords are Comware 7's where Comware has the algorithm (its
// `ssh2 algorithm` syntax drops the `diffie-hellman-`/`hmac-` prefixes and
// the `@openssh.com` suffixes); the others follow the same pattern (ours:
// dh-group-exchange-sha256, dh-group16-sha512, mlkem768x25519-sha256,
// chacha20-poly1305, sha2-256-etm, sha2-512-etm, ecdsa-sha2-nistp521,
// ed25519, rsa-sha2-256, rsa-sha2-512). Only algorithms that
// golang.org/x/crypto/ssh implements are here (sshd checks it); Comware's
// dsa, x509v3-*, des-cbc, aes256-cbc, sm4-cbc, md5, md5-96 and sm3 are not.
// The defaults have no SHA-1 and nothing ssh-audit fails (docs/operations.md).
var ssh2Catalogs = map[SSH2Kind]ssh2Catalog{
	SSH2KeyExchange: {
		keyword: "key-exchange", label: "Key exchange",
		algorithms: []SSH2Algorithm{
			// x/crypto offers curve25519-sha256@libssh.org with it.
			{"curve25519-sha256", []string{"curve25519-sha256"}},
			{"dh-group-exchange-sha1", []string{"diffie-hellman-group-exchange-sha1"}},
			{"dh-group-exchange-sha256", []string{"diffie-hellman-group-exchange-sha256"}},
			{"dh-group1-sha1", []string{"diffie-hellman-group1-sha1"}},
			{"dh-group14-sha1", []string{"diffie-hellman-group14-sha1"}},
			{"dh-group14-sha256", []string{"diffie-hellman-group14-sha256"}},
			{"dh-group16-sha512", []string{"diffie-hellman-group16-sha512"}},
			{"ecdh-sha2-nistp256", []string{"ecdh-sha2-nistp256"}},
			{"ecdh-sha2-nistp384", []string{"ecdh-sha2-nistp384"}},
			{"ecdh-sha2-nistp521", []string{"ecdh-sha2-nistp521"}},
			{"mlkem768x25519-sha256", []string{"mlkem768x25519-sha256"}},
		},
		defaults: []string{"mlkem768x25519-sha256", "curve25519-sha256", "dh-group14-sha256"},
	},
	SSH2PublicKey: {
		keyword: "public-key", label: "Public key",
		algorithms: []SSH2Algorithm{
			{"ecdsa-sha2-nistp256", []string{"ecdsa-sha2-nistp256"}},
			{"ecdsa-sha2-nistp384", []string{"ecdsa-sha2-nistp384"}},
			{"ecdsa-sha2-nistp521", []string{"ecdsa-sha2-nistp521"}},
			{"ed25519", []string{"ssh-ed25519"}},
			{"rsa", []string{"ssh-rsa"}},
			{"rsa-sha2-256", []string{"rsa-sha2-256"}},
			{"rsa-sha2-512", []string{"rsa-sha2-512"}},
		},
		defaults: []string{"ed25519"},
	},
	SSH2Cipher: {
		keyword: "cipher", label: "Encryption",
		algorithms: []SSH2Algorithm{
			{"3des-cbc", []string{"3des-cbc"}},
			{"aes128-cbc", []string{"aes128-cbc"}},
			{"aes128-ctr", []string{"aes128-ctr"}},
			{"aes128-gcm", []string{"aes128-gcm@openssh.com"}},
			{"aes192-ctr", []string{"aes192-ctr"}},
			{"aes256-ctr", []string{"aes256-ctr"}},
			{"aes256-gcm", []string{"aes256-gcm@openssh.com"}},
			{"chacha20-poly1305", []string{"chacha20-poly1305@openssh.com"}},
		},
		defaults: []string{"chacha20-poly1305", "aes128-gcm", "aes256-gcm", "aes128-ctr", "aes192-ctr", "aes256-ctr"},
	},
	SSH2MAC: {
		keyword: "mac", label: "MAC",
		algorithms: []SSH2Algorithm{
			{"sha1", []string{"hmac-sha1"}},
			{"sha1-96", []string{"hmac-sha1-96"}},
			{"sha2-256", []string{"hmac-sha2-256"}},
			{"sha2-256-etm", []string{"hmac-sha2-256-etm@openssh.com"}},
			{"sha2-512", []string{"hmac-sha2-512"}},
			{"sha2-512-etm", []string{"hmac-sha2-512-etm@openssh.com"}},
		},
		defaults: []string{"sha2-256-etm", "sha2-512-etm"},
	},
}

// Keyword is the word after `ssh2 algorithm`: key-exchange, public-key, cipher, mac.
func (k SSH2Kind) Keyword() string { return ssh2Catalogs[k].keyword }

// Label names the list in display output: "Key exchange", "Public key", "Encryption", "MAC".
func (k SSH2Kind) Label() string { return ssh2Catalogs[k].label }

// Algorithms lists the keywords the list accepts, in ASCII order.
func (k SSH2Kind) Algorithms() []SSH2Algorithm { return slices.Clone(ssh2Catalogs[k].algorithms) }

// Default is the list used when none is configured.
func (k SSH2Kind) Default() []string { return slices.Clone(ssh2Catalogs[k].defaults) }

// Names returns the SSH protocol names of keywords, in order.
func (k SSH2Kind) Names(keywords []string) []string {
	var out []string
	for _, w := range keywords {
		if a, ok := k.lookup(w); ok {
			out = append(out, a.Names...)
		}
	}
	return out
}

func (k SSH2Kind) lookup(keyword string) (SSH2Algorithm, bool) {
	for _, a := range ssh2Catalogs[k].algorithms {
		if a.Keyword == keyword {
			return a, true
		}
	}
	return SSH2Algorithm{}, false
}

// List returns the configured list of kind k (nil = default).
func (s SSH2) List(k SSH2Kind) []string {
	switch k {
	case SSH2KeyExchange:
		return s.KeyExchange
	case SSH2PublicKey:
		return s.PublicKey
	case SSH2Cipher:
		return s.Cipher
	case SSH2MAC:
		return s.MAC
	}
	return nil
}

// SetList stores list as kind k's list; a list equal to the default is
// stored as nil (the default), so that it is not rendered.
func (s *SSH2) SetList(k SSH2Kind, list []string) {
	if slices.Equal(list, k.Default()) {
		list = nil
	}
	list = slices.Clone(list)
	switch k {
	case SSH2KeyExchange:
		s.KeyExchange = list
	case SSH2PublicKey:
		s.PublicKey = list
	case SSH2Cipher:
		s.Cipher = list
	case SSH2MAC:
		s.MAC = list
	}
}

// Effective is the list in force for kind k: the configured one or the default.
func (s SSH2) Effective(k SSH2Kind) []string {
	if l := s.List(k); l != nil {
		return slices.Clone(l)
	}
	return k.Default()
}

func (s SSH2) clone() SSH2 {
	return SSH2{KeyExchange: slices.Clone(s.KeyExchange), PublicKey: slices.Clone(s.PublicKey),
		Cipher: slices.Clone(s.Cipher), MAC: slices.Clone(s.MAC)}
}

// validate: every configured list is non-empty, known keywords, each once.
func (s SSH2) validate() error {
	for _, k := range SSH2Kinds {
		l := s.List(k)
		if l == nil {
			continue
		}
		if len(l) == 0 {
			return fmt.Errorf("ssh2 algorithm %s: empty list", k.Keyword())
		}
		for i, w := range l {
			if _, ok := k.lookup(w); !ok {
				return fmt.Errorf("ssh2 algorithm %s: unknown algorithm %q", k.Keyword(), w)
			}
			if slices.Contains(l[:i], w) {
				return fmt.Errorf("ssh2 algorithm %s: %s twice", k.Keyword(), w)
			}
		}
	}
	return nil
}

package sshd

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/config"
)

// kexInit is the server's first SSH_MSG_KEXINIT (RFC 4253 7.1): what it
// advertises, in its order of preference.
type kexInit struct {
	Cookie                  [16]byte `sshtype:"20"`
	KexAlgos                []string
	ServerHostKeyAlgos      []string
	CiphersClientServer     []string
	CiphersServerClient     []string
	MACsClientServer        []string
	MACsServerClient        []string
	CompressionClientServer []string
	CompressionServerClient []string
	LanguagesClientServer   []string
	LanguagesServerClient   []string
	FirstKexFollows         bool
	Reserved                uint32
}

// advertised connects to addr, sends a version line and reads the
// server's KEXINIT (the first packet, not encrypted).
func advertised(t *testing.T, addr string) kexInit {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "SSH-2.0-kexinit-probe\r\n")
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("version line: %v", err)
		}
		if strings.HasPrefix(line, "SSH-") {
			break
		}
	}
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatal(err)
	}
	length, padding := binary.BigEndian.Uint32(hdr[:4]), int(hdr[4])
	if length < 1+uint32(padding) || length > 35000 {
		t.Fatalf("packet length %d padding %d", length, padding)
	}
	body := make([]byte, length-1)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	var msg kexInit
	if err := gossh.Unmarshal(body[:len(body)-padding], &msg); err != nil {
		t.Fatalf("KEXINIT: %v", err)
	}
	// The strict-kex marker is a flag, not an algorithm.
	msg.KexAlgos = slices.DeleteFunc(msg.KexAlgos, func(a string) bool { return strings.HasPrefix(a, "kex-strict-") })
	return msg
}

// TestSSH2NamesAreLibraryAlgorithms: every keyword stands for algorithms
// x/crypto implements for its list, so none is silently dropped.
func TestSSH2NamesAreLibraryAlgorithms(t *testing.T) {
	sup, insec := gossh.SupportedAlgorithms(), gossh.InsecureAlgorithms()
	lists := map[config.SSH2Kind][]string{
		config.SSH2KeyExchange: append(sup.KeyExchanges, insec.KeyExchanges...),
		config.SSH2PublicKey:   append(sup.HostKeys, insec.HostKeys...),
		config.SSH2Cipher:      append(sup.Ciphers, insec.Ciphers...),
		config.SSH2MAC:         append(sup.MACs, insec.MACs...),
	}
	for _, k := range config.SSH2Kinds {
		for _, a := range k.Algorithms() {
			for _, name := range a.Names {
				if !slices.Contains(lists[k], name) {
					t.Errorf("%s %s: %s is not an x/crypto algorithm", k.Keyword(), a.Keyword, name)
				}
			}
		}
		if k == config.SSH2PublicKey {
			for _, a := range k.Algorithms() {
				if _, ok := hostKeyFiles[keyTypeOf(a.Names[0])]; !ok {
					t.Errorf("public-key %s: no host key type for it", a.Keyword)
				}
			}
		}
	}
}

// TestDefaultAlgorithms: what a fresh device advertises, in order; no
// SHA-1 anywhere, and ssh-rsa (SHA-1) signatures refused for login.
func TestDefaultAlgorithms(t *testing.T) {
	h := newHarness(t)
	got := advertised(t, h.srv.Addr().String())
	want := kexInit{
		KexAlgos:            []string{"mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group14-sha256"},
		ServerHostKeyAlgos:  []string{"ssh-ed25519"},
		CiphersClientServer: []string{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"},
		MACsClientServer:    []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"},
	}
	checkAdvertised(t, got, want)
	for _, l := range [][]string{got.KexAlgos, got.ServerHostKeyAlgos, got.CiphersClientServer, got.MACsClientServer} {
		for _, a := range l {
			if strings.Contains(a, "sha1") || a == "ssh-rsa" {
				t.Errorf("SHA-1 algorithm %s offered", a)
			}
		}
	}
	if got := ssh2PublicKeyAuths(config.SSH2PublicKey.Names(config.SSH2PublicKey.Default())); slices.Contains(got, gossh.KeyAlgoRSA) {
		t.Errorf("ssh-rsa login signatures accepted by default: %q", got)
	}
}

func checkAdvertised(t *testing.T, got, want kexInit) {
	t.Helper()
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"key exchange", got.KexAlgos, want.KexAlgos},
		{"host key", got.ServerHostKeyAlgos, want.ServerHostKeyAlgos},
		{"cipher c2s", got.CiphersClientServer, want.CiphersClientServer},
		{"cipher s2c", got.CiphersServerClient, want.CiphersClientServer},
		{"mac c2s", got.MACsClientServer, want.MACsClientServer},
		{"mac s2c", got.MACsServerClient, want.MACsClientServer},
	} {
		if c.want != nil && !slices.Equal(c.got, c.want) {
			t.Errorf("%s: advertised %q, want %q", c.what, c.got, c.want)
		}
	}
}

// dialWith logs in as admin with a client limited by limit.
func (h *harness) dialWith(limit func(*gossh.ClientConfig)) (*gossh.Client, error) {
	cc := clientConfig("admin", gossh.Password(testPassword))
	limit(cc)
	return gossh.Dial("tcp", h.srv.Addr().String(), cc)
}

// TestSSH2ListsApplyToNewConnections: each list changes what the next
// connection is offered, in the order configured, without a restart; a
// client that needs an algorithm left out is refused, one that has a
// listed one gets in, and a connection already open is not disturbed.
func TestSSH2ListsApplyToNewConnections(t *testing.T) {
	h := newHarness(t)
	open := h.admin()
	for _, tt := range []struct {
		kind   config.SSH2Kind
		list   []string
		want   kexInit
		in     func(*gossh.ClientConfig) // a client that gets in only with the list
		refuse func(*gossh.ClientConfig) // a client that got in before and is now refused
	}{
		{config.SSH2KeyExchange, []string{"ecdh-sha2-nistp384", "dh-group14-sha1"},
			kexInit{KexAlgos: []string{"ecdh-sha2-nistp384", "diffie-hellman-group14-sha1"}},
			func(c *gossh.ClientConfig) { c.KeyExchanges = []string{"diffie-hellman-group14-sha1"} },
			func(c *gossh.ClientConfig) { c.KeyExchanges = []string{"curve25519-sha256"} }},
		{config.SSH2Cipher, []string{"aes256-ctr", "aes128-cbc"},
			kexInit{CiphersClientServer: []string{"aes256-ctr", "aes128-cbc"}},
			func(c *gossh.ClientConfig) { c.Ciphers = []string{"aes128-cbc"} },
			func(c *gossh.ClientConfig) { c.Ciphers = []string{"aes128-gcm@openssh.com"} }},
		{config.SSH2MAC, []string{"sha2-512", "sha1"},
			kexInit{MACsClientServer: []string{"hmac-sha2-512", "hmac-sha1"}},
			func(c *gossh.ClientConfig) { c.Ciphers = []string{"aes128-ctr"}; c.MACs = []string{"hmac-sha1"} },
			func(c *gossh.ClientConfig) {
				c.Ciphers = []string{"aes128-ctr"}
				c.MACs = []string{"hmac-sha2-256-etm@openssh.com"}
			}},
		{config.SSH2PublicKey, []string{"ecdsa-sha2-nistp256", "rsa-sha2-512"},
			kexInit{ServerHostKeyAlgos: []string{"ecdsa-sha2-nistp256", "rsa-sha2-512"}},
			func(c *gossh.ClientConfig) { c.HostKeyAlgorithms = []string{"rsa-sha2-512"} },
			func(c *gossh.ClientConfig) { c.HostKeyAlgorithms = []string{"ssh-ed25519"} }},
	} {
		t.Run(tt.kind.Keyword(), func(t *testing.T) {
			if c, err := h.dialWith(tt.in); err == nil {
				c.Close()
				t.Fatalf("client outside the default list got in")
			}
			if c, err := h.dialWith(tt.refuse); err != nil {
				t.Fatalf("client within the default list refused: %v", err)
			} else {
				c.Close()
			}
			h.setConfig(func(c *config.Config) { c.SSH2.SetList(tt.kind, tt.list) })
			checkAdvertised(t, advertised(t, h.srv.Addr().String()), tt.want)
			c, err := h.dialWith(tt.in)
			if err != nil {
				t.Fatalf("client with a listed algorithm refused: %v", err)
			}
			if out, err := runExec(c, "display clock"); err != nil || !strings.Contains(out, "display clock") {
				t.Errorf("exec after login: %v %q", err, out)
			}
			c.Close()
			if c, err := h.dialWith(tt.refuse); err == nil {
				c.Close()
				t.Fatalf("client without a listed algorithm got in")
			}
			h.setConfig(func(c *config.Config) { c.SSH2.SetList(tt.kind, nil) })
		})
	}
	// The connection made before every change still works.
	if out, err := runExec(open, "display version"); err != nil || !strings.Contains(out, "display version") {
		t.Fatalf("connection opened before the changes: %v %q", err, out)
	}
}

func runExec(c *gossh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

// TestHostKeysMadeOnDemand: a public-key list naming RSA or ECDSA makes
// that host key once, 0600, next to the identity key, and reuses it after
// a restart; the identity key stays what it was.
func TestHostKeysMadeOnDemand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh_host_ed25519_key")
	withKey := func(o *Options, c *config.Config) {
		o.HostKeyPath = path
		c.SSH2.PublicKey = []string{"rsa-sha2-256", "ecdsa-sha2-nistp384", "ed25519"}
	}
	fingerprints := func(h *harness) map[string]string {
		fps := map[string]string{}
		for _, algo := range []string{"rsa-sha2-256", "ecdsa-sha2-nistp384", "ssh-ed25519"} {
			var fp string
			c, err := h.dialWith(func(c *gossh.ClientConfig) {
				c.HostKeyAlgorithms = []string{algo}
				c.HostKeyCallback = func(_ string, _ net.Addr, k gossh.PublicKey) error {
					fp = gossh.FingerprintSHA256(k)
					return nil
				}
			})
			if err != nil {
				t.Fatalf("%s: %v", algo, err)
			}
			c.Close()
			fps[algo] = fp
		}
		return fps
	}
	h := newHarness(t, withKey)
	checkAdvertised(t, advertised(t, h.srv.Addr().String()), kexInit{ServerHostKeyAlgos: []string{"rsa-sha2-256", "ecdsa-sha2-nistp384", "ssh-ed25519"}})
	first := fingerprints(h)
	if first["ssh-ed25519"] != h.srv.Fingerprint() {
		t.Errorf("identity key %s, server says %s", first["ssh-ed25519"], h.srv.Fingerprint())
	}
	for _, name := range []string{"ssh_host_rsa_key", "ssh_host_ecdsa_nistp384_key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, err, st)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ssh_host_ecdsa_nistp256_key")); err == nil {
		t.Errorf("a key nobody asked for was made")
	}
	h.stop()
	again := fingerprints(newHarness(t, withKey))
	for algo, fp := range first {
		if again[algo] != fp {
			t.Errorf("%s host key changed across a restart: %s → %s", algo, fp, again[algo])
		}
	}
}

// TestRSALoginSignatures: an RSA user key logs in with rsa-sha2-*; its
// ssh-rsa (SHA-1) signature is refused unless the public-key list names rsa.
func TestRSALoginSignatures(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := gossh.NewSignerFromKey(priv)
	h := newHarness(t, func(o *Options, c *config.Config) {
		u, _ := c.User("keyuser")
		u.PublicKeys = []string{string(gossh.MarshalAuthorizedKey(signer.PublicKey()))}
	})
	login := func(algo string) error {
		as, err := gossh.NewSignerWithAlgorithms(signer.(gossh.AlgorithmSigner), []string{algo})
		if err != nil {
			t.Fatal(err)
		}
		c, err := h.dial("keyuser", gossh.PublicKeys(as))
		if err == nil {
			c.Close()
		}
		return err
	}
	for _, tt := range []struct {
		list []string
		algo string
		ok   bool
	}{
		{nil, gossh.KeyAlgoRSASHA512, true},
		{nil, gossh.KeyAlgoRSASHA256, true},
		{nil, gossh.KeyAlgoRSA, false},
		{[]string{"ed25519", "rsa"}, gossh.KeyAlgoRSA, true},
	} {
		h.setConfig(func(c *config.Config) { c.SSH2.PublicKey = tt.list })
		if err := login(tt.algo); (err == nil) != tt.ok {
			t.Errorf("public-key %q, login signed with %s: err=%v, want ok=%v", tt.list, tt.algo, err, tt.ok)
		}
	}
}

// TestHostKeyFailureFallsBack: a host key that cannot be read is left out
// (logged once); with nothing left the identity key keeps the device
// reachable.
func TestHostKeyFailureFallsBack(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh_host_rsa_key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A key of the wrong type where the P-256 key belongs.
	if _, err := loadOrCreateKey(filepath.Join(dir, "ssh_host_ecdsa_nistp256_key"), newEd25519Key); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *Options, c *config.Config) {
		o.HostKeyPath = filepath.Join(dir, "ssh_host_ed25519_key")
		c.SSH2.PublicKey = []string{"rsa-sha2-512", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp521"}
	})
	checkAdvertised(t, advertised(t, h.srv.Addr().String()), kexInit{ServerHostKeyAlgos: []string{"ecdsa-sha2-nistp521"}})
	h.setConfig(func(c *config.Config) { c.SSH2.PublicKey = []string{"rsa-sha2-512"} })
	checkAdvertised(t, advertised(t, h.srv.Addr().String()), kexInit{ServerHostKeyAlgos: []string{"ssh-ed25519"}})
	if data, _ := os.ReadFile(filepath.Join(dir, "ssh_host_rsa_key")); string(data) != "not a key" {
		t.Errorf("an unreadable key file was replaced: %q", data)
	}
}

package sshd

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"go.uber.org/zap"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/config"
)

// The `ssh2 algorithm` lists (config.SSH2) are read at every new connection
// and set on that connection's x/crypto ServerConfig: key exchanges,
// ciphers, MACs, and the host key algorithms (`public-key`), which decide
// the host keys the server presents. Connections already open keep what
// they negotiated.

// rsaHostKeyBits: 3072 bits, as ssh-keygen makes RSA keys; ssh-audit warns
// on 2048.
const rsaHostKeyBits = 3072

// hostKeyFile is where a host key of one type lives, in the directory of
// Options.HostKeyPath, and how to make one.
type hostKeyFile struct {
	name   string
	newKey func() (crypto.Signer, error)
}

func newECDSAKey(c elliptic.Curve) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
}

// hostKeyFiles, by key type (PublicKey().Type()). The ed25519 key is the
// device's identity (Options.HostKeyPath, made at first boot); the others
// are made the first time a connection needs them, that is once an
// `ssh2 algorithm public-key` list names one of their algorithms.
var hostKeyFiles = map[string]hostKeyFile{
	gossh.KeyAlgoED25519:  {"ssh_host_ed25519_key", newEd25519Key},
	gossh.KeyAlgoRSA:      {"ssh_host_rsa_key", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, rsaHostKeyBits) }},
	gossh.KeyAlgoECDSA256: {"ssh_host_ecdsa_nistp256_key", newECDSAKey(elliptic.P256())},
	gossh.KeyAlgoECDSA384: {"ssh_host_ecdsa_nistp384_key", newECDSAKey(elliptic.P384())},
	gossh.KeyAlgoECDSA521: {"ssh_host_ecdsa_nistp521_key", newECDSAKey(elliptic.P521())},
}

// keyTypeOf is the type of key that signs with host key algorithm algo.
func keyTypeOf(algo string) string {
	switch algo {
	case gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSASHA512:
		return gossh.KeyAlgoRSA
	}
	return algo
}

// userKeyAlgorithms are the signature algorithms accepted for publickey
// login: every SHA-2 one x/crypto knows (security keys included), never
// ssh-rsa (SHA-1) or DSA. `rsa` in the public-key list adds ssh-rsa, for
// the old clients that need it for both (ssh2PublicKeyAuths).
var userKeyAlgorithms = []string{
	gossh.KeyAlgoED25519, gossh.KeyAlgoSKED25519,
	gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521, gossh.KeyAlgoSKECDSA256,
	gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256,
}

func ssh2PublicKeyAuths(hostAlgos []string) []string {
	algos := slices.Clone(userKeyAlgorithms)
	if slices.Contains(hostAlgos, gossh.KeyAlgoRSA) {
		algos = append(algos, gossh.KeyAlgoRSA)
	}
	return algos
}

// applyAlgorithms sets the `ssh2 algorithm` lists of cfg on conf, with the
// host keys they need.
func (s *Server) applyAlgorithms(conf *gossh.ServerConfig, cfg config.Config) {
	conf.KeyExchanges = config.SSH2KeyExchange.Names(cfg.SSH2.Effective(config.SSH2KeyExchange))
	conf.Ciphers = config.SSH2Cipher.Names(cfg.SSH2.Effective(config.SSH2Cipher))
	conf.MACs = config.SSH2MAC.Names(cfg.SSH2.Effective(config.SSH2MAC))
	hostAlgos := config.SSH2PublicKey.Names(cfg.SSH2.Effective(config.SSH2PublicKey))
	for _, signer := range s.keys.signers(hostAlgos) {
		conf.AddHostKey(signer)
	}
	conf.PublicKeyAuthAlgorithms = ssh2PublicKeyAuths(hostAlgos)
}

// hostKeys holds the host keys by key type; all but the identity key are
// loaded or made on first use.
type hostKeys struct {
	dir      string // where the other keys live; "" = in memory (tests)
	identity gossh.Signer
	zl       *zap.Logger

	mu     sync.Mutex
	byType map[string]gossh.Signer
	failed map[string]string // key type → last error logged, so it is logged once
}

func newHostKeys(identityPath string, identity gossh.Signer, zl *zap.Logger) *hostKeys {
	h := &hostKeys{identity: identity, zl: zl, byType: map[string]gossh.Signer{}, failed: map[string]string{}}
	if identityPath != "" {
		h.dir = filepath.Dir(identityPath)
	}
	h.byType[identity.PublicKey().Type()] = identity
	return h
}

// signers returns the host keys for algos, one per key type in the order
// the list first names it, each limited to the list's algorithms of its
// type. A key that cannot be loaded or made is left out (logged); with
// none left the identity key serves all its algorithms, so that the
// device stays reachable.
func (h *hostKeys) signers(algos []string) []gossh.Signer {
	var types []string
	for _, a := range algos {
		if t := keyTypeOf(a); !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	var out []gossh.Signer
	for _, t := range types {
		key, err := h.signer(t)
		if err == nil {
			key, err = restrict(key, algos)
		}
		if err != nil {
			h.logFailure(t, err)
			continue
		}
		out = append(out, key)
	}
	if len(out) == 0 {
		return []gossh.Signer{h.identity}
	}
	return out
}

// restrict limits key to those of algos that its type signs with.
func restrict(key gossh.Signer, algos []string) (gossh.Signer, error) {
	as, ok := key.(gossh.AlgorithmSigner)
	if !ok {
		return key, nil
	}
	var mine []string
	for _, a := range algos {
		if keyTypeOf(a) == key.PublicKey().Type() {
			mine = append(mine, a)
		}
	}
	return gossh.NewSignerWithAlgorithms(as, mine)
}

// signer returns the key of type t, loading or making it the first time.
func (h *hostKeys) signer(t string) (gossh.Signer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if key, ok := h.byType[t]; ok {
		return key, nil
	}
	f, ok := hostKeyFiles[t]
	if !ok {
		return nil, fmt.Errorf("no host key of type %s", t)
	}
	path := ""
	if h.dir != "" {
		path = filepath.Join(h.dir, f.name)
	}
	key, err := loadOrCreateKey(path, f.newKey)
	if err != nil {
		return nil, err
	}
	if got := key.PublicKey().Type(); got != t {
		return nil, fmt.Errorf("host key %s is %s, not %s", path, got, t)
	}
	h.byType[t] = key
	h.zl.Info("ssh host key ready", zap.String("type", t), zap.String("path", path),
		zap.String("fingerprint", gossh.FingerprintSHA256(key.PublicKey())))
	return key, nil
}

func (h *hostKeys) logFailure(t string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed[t] == err.Error() {
		return
	}
	h.failed[t] = err.Error()
	h.zl.Error("ssh host key unavailable; its algorithms are not offered", zap.String("type", t), zap.Error(err))
}

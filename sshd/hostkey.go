package sshd

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/atomicfile"
)

// loadHostKey reads the ed25519 host key at path (OpenSSH private key
// format, as ssh-keygen writes it), creating it with mode 0600 when the file
// does not exist. An existing file that cannot be parsed is an error, never a
// reason to make a new key: clients would see the device change identity.
// An empty path gives an in-memory key (tests).
func loadHostKey(path string) (gossh.Signer, error) {
	return loadOrCreateKey(path, newEd25519Key)
}

func newEd25519Key() (crypto.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

// loadOrCreateKey is loadHostKey for any kind of key: newKey makes the key
// when path does not exist (or is "", in memory only).
func loadOrCreateKey(path string, newKey func() (crypto.Signer, error)) (gossh.Signer, error) {
	if path == "" {
		priv, err := newKey()
		if err != nil {
			return nil, err
		}
		return gossh.NewSignerFromKey(priv)
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if st, serr := os.Stat(path); serr == nil && st.Mode().Perm()&0o077 != 0 {
			if cerr := os.Chmod(path, 0o600); cerr != nil {
				return nil, fmt.Errorf("host key %s is readable by others and chmod failed: %w", path, cerr)
			}
		}
		s, err := gossh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("host key %s: %w", path, err)
		}
		return s, nil
	case errors.Is(err, fs.ErrNotExist):
		priv, err := newKey()
		if err != nil {
			return nil, err
		}
		block, err := gossh.MarshalPrivateKey(priv, "netdevd host key")
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, pem.EncodeToMemory(block), 0o600); err != nil {
			return nil, fmt.Errorf("host key %s: %w", path, err)
		}
		return gossh.NewSignerFromKey(priv)
	default:
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
}

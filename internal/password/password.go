// Package password turns a local user's password into the salted slow hash
// that the configuration stores (`password hash …`) and checks a login
// attempt against it. The plain password is never stored or logged.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// logN is scrypt's cost as a power of two: 2^14 costs ~16 MiB and tens of
// milliseconds, which the SSH per-source penalty keeps from being a lever.
const logN = 14

const prefix = "$s$"

var enc = base64.RawStdEncoding

// Hash returns the stored form of plain: $s$<logN>$<salt>$<key>.
func Hash(plain string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := derive(plain, salt, logN)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d$%s$%s", prefix, logN, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether plain matches the stored hash.
func Verify(hash, plain string) bool {
	n, salt, key, err := parse(hash)
	if err != nil {
		return false
	}
	got, err := derive(plain, salt, n)
	return err == nil && subtle.ConstantTimeCompare(got, key) == 1
}

// Valid reports whether hash is a well-formed stored hash, so that a
// configuration line `password hash X` can be refused when X is not.
func Valid(hash string) bool {
	_, _, _, err := parse(hash)
	return err == nil
}

func derive(plain string, salt []byte, n int) ([]byte, error) {
	key, err := scrypt.Key([]byte(plain), salt, 1<<n, 8, 1, 32)
	// scrypt's 16 MiB work block would otherwise stay resident for minutes
	// in a daemon that is idle between logins; give it back now.
	debug.FreeOSMemory()
	return key, err
}

func parse(hash string) (n int, salt, key []byte, err error) {
	rest, ok := strings.CutPrefix(hash, prefix)
	parts := strings.Split(rest, "$")
	if !ok || len(parts) != 3 {
		return 0, nil, nil, errors.New("not a password hash")
	}
	n, err = strconv.Atoi(parts[0])
	if err != nil || n < 10 || n > 20 {
		return 0, nil, nil, errors.New("bad cost")
	}
	salt, err1 := enc.DecodeString(parts[1])
	key, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != 32 {
		return 0, nil, nil, errors.New("bad salt or key")
	}
	return n, salt, key, nil
}

// Package totp is the optional second login factor of local users:
// RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s step, 6 digits,
// ±1 step of clock skew) and one-time backup codes.
//
// Storage (config.LocalUser):
//   - the TOTP secret must be recoverable to verify codes, so it cannot be
//     hashed. It is kept sealed ($t$1$…, AES-256-GCM under a key compiled
//     into netdevd): the configuration never shows it in clear, and a
//     tampered or mistyped value is refused. This is obfuscation, not
//     confidentiality: anyone who can read the configuration (startup.cfg,
//     backups, archives, display current-configuration) and knows this
//     source can recover the secret, as with Comware's `cipher` passwords.
//   - backup codes are kept as salted SHA-256 ($b$SALT$DIGEST). A slow hash
//     is not needed: each code is 10 random base32 characters (50 bits), and
//     whoever can read the hashes can read the TOTP secret next to them.
//
// Nothing here logs; callers must never log secrets, codes or URIs.
package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Parameters (RFC 6238 defaults, what authenticator apps assume).
const (
	Step        = 30 * time.Second
	Digits      = 6
	Skew        = 1  // steps accepted either side of now
	SecretBytes = 20 // 160 bits, RFC 4226's recommendation
	// BackupCodes is how many backup codes `two-factor totp enable` makes.
	BackupCodes = 8
	// BackupCodeLen is the length of one backup code.
	BackupCodeLen = 10
	// Issuer is the otpauth issuer.
	Issuer = "netdevd"
)

// b32 is the unpadded base32 of secrets (RFC 4648, as otpauth URIs use).
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

var b64 = base64.RawStdEncoding

// NewSecret returns a fresh random secret.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretBytes)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Base32 is the secret as authenticator apps take it.
func Base32(secret []byte) string { return b32.EncodeToString(secret) }

// URI is the otpauth URI for user (what a QR code holds).
func URI(user string, secret []byte) string {
	label := url.PathEscape(Issuer + ":" + user)
	return "otpauth://totp/" + label + "?secret=" + Base32(secret) + "&issuer=" + url.QueryEscape(Issuer)
}

// Counter is the RFC 6238 time step of t.
func Counter(t time.Time) int64 { return t.Unix() / int64(Step/time.Second) }

// CodeAt is the code of counter value c (RFC 4226 HOTP, dynamic truncation).
func CodeAt(secret []byte, c int64) string {
	return hotp(sha1hmac(secret), c, Digits)
}

// Code is the code valid at t.
func Code(secret []byte, t time.Time) string { return CodeAt(secret, Counter(t)) }

func sha1hmac(secret []byte) func(msg []byte) []byte {
	return func(msg []byte) []byte {
		m := hmac.New(sha1.New, secret)
		m.Write(msg)
		return m.Sum(nil)
	}
}

func hotp(mac func([]byte) []byte, c int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(c))
	sum := mac(msg[:])
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for i := 0; i < digits; i++ {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// Verify checks code at time t with ±Skew steps. A code of a step at or
// before last (the step of the last code accepted for this user; 0 when
// none) is refused, so a code is never accepted twice (RFC 6238 §5.2). It
// returns the matched step, to be remembered as the new last.
func Verify(secret []byte, code string, t time.Time, last int64) (int64, bool) {
	if len(code) != Digits || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	now := Counter(t)
	for c := now - Skew; c <= now+Skew; c++ {
		if c <= last {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(CodeAt(secret, c)), []byte(code)) == 1 {
			return c, true
		}
	}
	return 0, false
}

// NormalizeCode removes the blanks and dashes a user may type inside a code
// and lower-cases it (backup codes are case-insensitive).
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '-':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// sealKey is the fixed obfuscation key of sealed secrets (see the package
// comment: it keeps the secret out of sight, not from a reader of the file).
var sealKey = sha256.Sum256([]byte("netdevd two-factor totp secret obfuscation v1"))

const sealPrefix = "$t$1$"

// Seal returns the stored form of secret: $t$1$<base64(nonce|ciphertext)>.
func Seal(secret []byte) (string, error) {
	g := gcm()
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealPrefix + b64.EncodeToString(g.Seal(nonce, nonce, secret, []byte(sealPrefix))), nil
}

// Open recovers the secret from its stored form.
func Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, errors.New("not a sealed TOTP secret")
	}
	raw, err := b64.DecodeString(rest)
	g := gcm()
	if err != nil || len(raw) < g.NonceSize()+g.Overhead() {
		return nil, errors.New("malformed sealed TOTP secret")
	}
	secret, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(sealPrefix))
	if err != nil || len(secret) < 10 || len(secret) > 64 {
		return nil, errors.New("bad sealed TOTP secret")
	}
	return secret, nil
}

// ValidSealed reports whether s is a well-formed sealed secret.
func ValidSealed(s string) bool {
	_, err := Open(s)
	return err == nil
}

func gcm() cipher.AEAD {
	b, err := aes.NewCipher(sealKey[:])
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

// codeAlphabet: lower-case base32 (no 0/1/8/9, so no O/0 or l/1 confusion).
const codeAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// NewBackupCodes returns n fresh codes and their stored hashes.
func NewBackupCodes(n int) (codes, hashes []string, err error) {
	for i := 0; i < n; i++ {
		raw := make([]byte, BackupCodeLen)
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, err
		}
		for j := range raw {
			raw[j] = codeAlphabet[raw[j]&31]
		}
		code := string(raw)
		h, err := HashBackupCode(code)
		if err != nil {
			return nil, nil, err
		}
		codes, hashes = append(codes, code), append(hashes, h)
	}
	return codes, hashes, nil
}

const backupPrefix = "$b$"

// HashBackupCode is the stored form of a code: $b$<salt>$<sha256(salt|code)>.
func HashBackupCode(code string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return backupPrefix + b64.EncodeToString(salt) + "$" + b64.EncodeToString(backupDigest(salt, code)), nil
}

func backupDigest(salt []byte, code string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(code))
	return h.Sum(nil)
}

func parseBackupHash(s string) (salt, digest []byte, ok bool) {
	rest, found := strings.CutPrefix(s, backupPrefix)
	a, b, two := strings.Cut(rest, "$")
	if !found || !two {
		return nil, nil, false
	}
	salt, err1 := b64.DecodeString(a)
	digest, err2 := b64.DecodeString(b)
	if err1 != nil || err2 != nil || len(salt) < 8 || len(digest) != sha256.Size {
		return nil, nil, false
	}
	return salt, digest, true
}

// ValidBackupHash reports whether s is a well-formed stored backup code.
func ValidBackupHash(s string) bool {
	_, _, ok := parseBackupHash(s)
	return ok
}

// MatchBackupCode returns the index of the hash that code matches, or -1.
// code is normalized first. Every hash is checked (no early exit).
func MatchBackupCode(hashes []string, code string) int {
	code = NormalizeCode(code)
	found := -1
	if len(code) != BackupCodeLen {
		return -1
	}
	for i, h := range hashes {
		salt, digest, ok := parseBackupHash(h)
		if ok && subtle.ConstantTimeCompare(backupDigest(salt, code), digest) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

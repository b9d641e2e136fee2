package totp

import (
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B, SHA-1 column (8 digits; our codes are the last 6).
func TestRFC6238Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	cases := []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	}
	for _, c := range cases {
		tm := time.Unix(c.unix, 0)
		if got := hotp(sha1hmac(secret), Counter(tm), 8); got != c.want {
			t.Errorf("T=%d: %s, want %s", c.unix, got, c.want)
		}
		if got := Code(secret, tm); got != c.want[2:] {
			t.Errorf("T=%d 6 digits: %s, want %s", c.unix, got, c.want[2:])
		}
	}
}

// RFC 4226 Appendix D (HOTP, 6 digits).
func TestRFC4226Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := CodeAt(secret, int64(i)); got != w {
			t.Errorf("count %d: %s, want %s", i, got, w)
		}
	}
}

func TestVerifySkewAndReuse(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	c := Counter(now)
	for _, d := range []int64{-1, 0, 1} {
		if step, ok := Verify(secret, CodeAt(secret, c+d), now, 0); !ok || step != c+d {
			t.Errorf("skew %d refused", d)
		}
	}
	for _, d := range []int64{-2, 2} {
		if _, ok := Verify(secret, CodeAt(secret, c+d), now, 0); ok {
			t.Errorf("skew %d accepted", d)
		}
	}
	code := Code(secret, now)
	step, ok := Verify(secret, code, now, 0)
	if !ok {
		t.Fatal("refused")
	}
	if _, ok := Verify(secret, code, now.Add(10*time.Second), step); ok {
		t.Error("the same code accepted twice")
	}
	if _, ok := Verify(secret, CodeAt(secret, c-1), now, step); ok {
		t.Error("an older code accepted after a newer one")
	}
	if _, ok := Verify(secret, CodeAt(secret, c+1), now, step); !ok {
		t.Error("the next step's code refused")
	}
	for _, bad := range []string{"", "12345", "1234567", "12a456"} {
		if _, ok := Verify(secret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSealOpen(t *testing.T) {
	s, _ := NewSecret()
	sealed, err := Seal(s)
	if err != nil || !strings.HasPrefix(sealed, "$t$1$") || strings.Contains(sealed, Base32(s)) {
		t.Fatalf("%q %v", sealed, err)
	}
	got, err := Open(sealed)
	if err != nil || string(got) != string(s) {
		t.Fatalf("open: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered != sealed && ValidSealed(tampered) {
		t.Error("tampered value accepted")
	}
	for _, bad := range []string{"", "$t$1$", "$t$1$!!!", "JBSWY3DPEHPK3PXP"} {
		if ValidSealed(bad) {
			t.Errorf("%q valid", bad)
		}
	}
}

func TestURI(t *testing.T) {
	s := []byte("12345678901234567890")
	if got, want := URI("admin", s), "otpauth://totp/netdevd:admin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=netdevd"; got != want {
		t.Errorf("%s\nwant %s", got, want)
	}
}

func TestBackupCodes(t *testing.T) {
	codes, hashes, err := NewBackupCodes(BackupCodes)
	if err != nil || len(codes) != 8 || len(hashes) != 8 {
		t.Fatal(err)
	}
	for i, c := range codes {
		if len(c) != BackupCodeLen || strings.Trim(c, codeAlphabet) != "" {
			t.Errorf("code %q", c)
		}
		if !ValidBackupHash(hashes[i]) || strings.Contains(hashes[i], c) {
			t.Errorf("hash %q", hashes[i])
		}
		if got := MatchBackupCode(hashes, c); got != i {
			t.Errorf("code %d matched %d", i, got)
		}
		if got := MatchBackupCode(hashes, strings.ToUpper(c[:5])+"-"+c[5:]); got != i {
			t.Errorf("normalized code %d matched %d", i, got)
		}
	}
	if MatchBackupCode(hashes, "aaaaaaaaaa") != -1 || MatchBackupCode(hashes, "") != -1 {
		t.Error("a wrong code matched")
	}
	for _, bad := range []string{"", "$b$", "$b$abc$def", "plain"} {
		if ValidBackupHash(bad) {
			t.Errorf("%q valid", bad)
		}
	}
}

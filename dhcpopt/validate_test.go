package dhcpopt

import (
	"errors"
	"strings"
	"testing"
)

func label(n int) string { return strings.Repeat("a", n) }

func TestValidateDomain(t *testing.T) {
	n253 := label(63) + "." + label(63) + "." + label(63) + "." + label(61) // 63*3+61+3 = 253
	n254 := n253 + "a"
	if len(n253) != 253 || len(n254) != 254 {
		t.Fatalf("helper lengths %d %d", len(n253), len(n254))
	}
	tests := []struct {
		name   string
		raw    []byte
		want   string
		reason string // substring of the error; "" = valid
	}{
		{"plain", []byte("cloud.example.test"), "cloud.example.test", ""},
		{"single label", []byte("controller"), "controller", ""},
		{"trailing dot", []byte("cloud.example.test."), "cloud.example.test", ""},
		{"nul padding", []byte("cloud.example.test\x00"), "cloud.example.test", ""},
		{"nul padding many", []byte("cloud.example.test\x00\x00\x00\x00"), "cloud.example.test", ""},
		{"dot and nul", []byte("cloud.example.test.\x00"), "cloud.example.test", ""},
		{"case kept", []byte("Oasis.Example.COM"), "Oasis.Example.COM", ""},
		{"digits first (RFC 1123)", []byte("3com.example"), "3com.example", ""},
		{"inner hyphen", []byte("my-cloud.example-1.test"), "my-cloud.example-1.test", ""},
		{"ipv4 as text", []byte("10.0.0.1"), "10.0.0.1", ""},
		{"one char", []byte("a"), "a", ""},
		{"length 253", []byte(n253), n253, ""},
		{"length 253 + dot", []byte(n253 + "."), n253, ""},
		{"label 63", []byte(label(63) + ".test"), label(63) + ".test", ""},

		{"empty", []byte{}, "", "empty"},
		{"nil", nil, "", "empty"},
		{"only nul", []byte{0, 0}, "", "empty"},
		{"only dot", []byte("."), "", "empty"},
		{"length 254", []byte(n254), "", "too long (254"},
		{"length 300", []byte(strings.Repeat("a.", 150)), "", "too long"},
		{"label 64", []byte(label(64) + ".test"), "", "label too long (64"},
		{"binary ipv4", []byte{10, 0, 0, 1}, "", "binary data"},
		{"binary ipv4 names address", []byte{192, 0, 2, 7}, "", "192.0.2.7"},
		{"binary ipv4 .0", []byte{10, 0, 0, 0}, "", "binary data"},
		{"binary", []byte{0xde, 0xad, 0xbe, 0xef, 0x01}, "", "binary data"},
		{"nul inside", []byte("cloud\x00example"), "", "binary data"},
		{"control char", []byte("cloud\n.example"), "", "binary data"},
		{"utf-8", []byte("clöud.example"), "", "binary data"},
		{"DEL", []byte("cloud\x7f"), "", "binary data"},
		{"leading hyphen", []byte("-cloud.example"), "", "hyphen"},
		{"trailing hyphen", []byte("cloud-.example"), "", "hyphen"},
		{"empty label", []byte("cloud..example"), "", "empty label"},
		{"leading dot", []byte(".cloud.example"), "", "empty label"},
		{"two trailing dots", []byte("cloud.example.."), "", "empty label"},
		{"space", []byte("cloud example"), "", "space"},
		{"underscore", []byte("cloud_1.example"), "", "invalid character"},
		{"url", []byte("https://cloud.example"), "", "invalid character"},
		{"port", []byte("cloud.example:19443"), "", "invalid character"},
		{"quoted", []byte(`"cloud.example"`), "", "invalid character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateDomain(tc.raw)
			if tc.reason == "" {
				if err != nil || got != tc.want {
					t.Fatalf("ValidateDomain(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateDomain(%q) = %q, want error containing %q", tc.raw, got, tc.reason)
			}
			var de *DomainError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DomainError", err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("ValidateDomain(%q) error %q, want it to contain %q", tc.raw, err, tc.reason)
			}
		})
	}
}

func FuzzValidateDomain(f *testing.F) {
	f.Add([]byte("cloud.example.test"))
	f.Add([]byte{10, 0, 0, 1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := ValidateDomain(raw)
		if err != nil {
			if got != "" {
				t.Fatalf("error with a value %q", got)
			}
			if err.Error() == "" {
				t.Fatal("empty reason")
			}
			return
		}
		if len(got) < 1 || len(got) > MaxDomainLen {
			t.Fatalf("accepted %d characters", len(got))
		}
		for _, l := range strings.Split(got, ".") {
			if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				t.Fatalf("accepted bad label %q in %q", l, got)
			}
			for i := 0; i < len(l); i++ {
				if !isLDH(l[i]) {
					t.Fatalf("accepted character %q", l[i])
				}
			}
		}
		again, err := ValidateDomain([]byte(got))
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

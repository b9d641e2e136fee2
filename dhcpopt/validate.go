package dhcpopt

import (
	"fmt"
	"net/netip"
	"strings"
)

// OptionCloudDomain is the DHCP option that carries the cloud controller's
// domain name (vendor-specific, site-local range).
const OptionCloudDomain = 253

// MaxDomainLen is the longest host name accepted in option 253 (the same
// 1–253 characters as `cloud-management server domain`).
const MaxDomainLen = 253

// DomainError is why an option 253 value was rejected. Reason is a short
// human text without a trailing period, e.g. "binary data".
type DomainError struct {
	Reason string
}

func (e *DomainError) Error() string { return e.Reason }

func reject(format string, a ...any) error {
	return &DomainError{Reason: fmt.Sprintf(format, a...)}
}

// ValidateDomain checks the raw bytes of an option 253 value and returns the
// controller's host name.
//
// Accepted: a host name made of RFC 1123 labels (letters, digits, hyphen; 1–63
// characters; no hyphen at either end) separated by dots, 1–253 characters,
// printable ASCII only. Tolerated and removed: NUL padding at the end (some
// servers send C strings) and one trailing dot (a fully qualified name). The
// case is kept as sent (the manual command is case-sensitive). A dotted IPv4
// address written as text ("10.0.0.1") is made of valid labels and is accepted.
//
// Rejected, with a *DomainError: empty values, binary data (including an IPv4
// address sent as 4 raw bytes, what dnsmasq sends for an unquoted dotted
// number), spaces and other non-host-name characters, empty labels, labels
// over 63 characters, a name over 253 characters.
func ValidateDomain(raw []byte) (string, error) {
	if len(raw) == 4 && !allPrintable(raw) && raw[3] != 0 {
		a := netip.AddrFrom4([4]byte(raw))
		return "", reject("binary data (4 bytes: IPv4 address %s sent as binary; quote the value on the server)", a)
	}
	// NUL padding at the end.
	end := len(raw)
	for end > 0 && raw[end-1] == 0 {
		end--
	}
	b := raw[:end]
	if len(b) == 0 {
		if len(raw) == 0 {
			return "", reject("empty")
		}
		return "", reject("empty (only NUL bytes)")
	}
	for i, c := range b {
		if c == 0 || c >= 0x80 || c < 0x20 || c == 0x7f {
			return "", reject("binary data (byte 0x%02x at offset %d)", c, i)
		}
	}
	s := string(b)
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", reject("empty (only a dot)")
	}
	if len(s) > MaxDomainLen {
		return "", reject("too long (%d characters, maximum %d)", len(s), MaxDomainLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLDH(c) && c != '.' {
			if c == ' ' {
				return "", reject("contains a space")
			}
			return "", reject("invalid character %q", string(c))
		}
	}
	labels := strings.Split(s, ".")
	for i, l := range labels {
		switch {
		case l == "":
			return "", reject("empty label (label %d)", i+1)
		case len(l) > 63:
			return "", reject("label too long (%d characters, maximum 63)", len(l))
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", reject("label %q starts or ends with a hyphen", l)
		}
	}
	return s, nil
}

func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func allPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

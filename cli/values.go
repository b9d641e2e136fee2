package cli

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// valueSpec is the type and range of a value word. label is what `?`
// shows for it, in Comware's form: <10-3600> for an integer, STRING<1-253>
// for a string, X.X.X.X for an IPv4 address.
type valueSpec struct {
	label    string
	integer  bool
	ipv4     bool
	spaces   bool              // a string that may hold spaces, typed in double quotes
	min, max int               // integer range, or string length range
	check    func(string) bool // extra rule for strings
}

func intRange(min, max int) *valueSpec {
	return &valueSpec{label: fmt.Sprintf("<%d-%d>", min, max), integer: true, min: min, max: max}
}

// textWithSpaces is a string that may hold spaces when typed in double
// quotes (`sysname "core switch"`). A value with a space may not hold a
// double quote: nothing could quote it back into a configuration line.
func textWithSpaces(min, max int) *valueSpec {
	v := text(min, max, nil)
	v.spaces = true
	return v
}

func text(min, max int, check func(string) bool) *valueSpec {
	return &valueSpec{label: fmt.Sprintf("STRING<%d-%d>", min, max), min: min, max: max, check: check}
}

var ipv4Addr = &valueSpec{label: "X.X.X.X", ipv4: true}

// accepts reports whether word is a valid value of this type.
func (v *valueSpec) accepts(word string) bool {
	switch {
	case v.integer:
		n, ok := parseDecimal(word)
		return ok && n >= v.min && n <= v.max
	case v.ipv4:
		_, ok := parseIPv4(word)
		return ok
	}
	if len(word) < v.min || len(word) > v.max || !printable(word, v.spaces) {
		return false
	}
	return v.check == nil || v.check(word)
}

// couldStart reports whether a partly typed word may become a value of this
// type, so that `keepalive 1?` lists the INTEGER range.
func (v *valueSpec) couldStart(word string) bool {
	switch {
	case v.integer:
		return strings.Trim(word, "0123456789") == ""
	case v.ipv4:
		return strings.Trim(word, "0123456789.") == ""
	}
	return true
}

// parseDecimal accepts only plain digits: no sign, no spaces.
func parseDecimal(word string) (int, bool) {
	if word == "" || len(word) > 9 || strings.Trim(word, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(word)
	return n, err == nil
}

// parseIPv4 accepts a dotted-quad unicast address.
func parseIPv4(word string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(word)
	if err != nil || !a.Is4() || a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, false
	}
	return a, true
}

// printable: visible ASCII only; spaces too when allowed (a quoted word),
// but then no double quote.
func printable(s string, spaces bool) bool {
	spaced := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' && spaces:
			spaced = true
		case c <= ' ' || c > '~':
			return false
		}
	}
	return !spaced || !strings.Contains(s, `"`)
}

// validHostname checks RFC 1123 host name syntax: dot-separated labels of
// 1-63 letters, digits and hyphens, not starting or ending with a hyphen.
func validHostname(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !validLabel(label) {
			return false
		}
	}
	return true
}

func validLabel(l string) bool {
	if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validUserName follows Comware's local-user rules: none of \ | / : * ? < > @
// and not a prefix of `all` (reserved for `undo local-user all`).
func validUserName(s string) bool {
	if strings.ContainsAny(s, `\|/:*?<>@`) {
		return false
	}
	return !strings.HasPrefix("all", strings.ToLower(s))
}

// validCfgName accepts `name.cfg` or `flash:/name.cfg` with a plain name.
func validCfgName(s string) bool {
	name := bareFileName(s)
	base, ok := strings.CutSuffix(strings.ToLower(name), ".cfg")
	return ok && base != "" && !strings.ContainsAny(name, `/\:*?"<>|`)
}

// bareFileName strips the `flash:/` prefix.
func bareFileName(s string) string {
	if len(s) >= 7 && strings.EqualFold(s[:7], "flash:/") {
		return s[7:]
	}
	return s
}

// validKeyType accepts the OpenSSH public key type names.
func validKeyType(s string) bool {
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-sha2-") || strings.HasPrefix(s, "sk-")
}

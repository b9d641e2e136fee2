package termrelay

import (
	"bytes"
	"testing"
)

func TestCursorModel(t *testing.T) {
	cases := []struct {
		name     string
		w, h     int
		row, col int // start, 0-based
		out      string
		want     string // report after the output
	}{
		{"prompt", 80, 24, 4, 0, "<dev>", "\x1b[5;6R"},
		{"crlf", 80, 24, 0, 0, "<dev>abc\r\nxy", "\x1b[2;3R"},
		{"scroll at bottom", 80, 3, 2, 0, "a\r\nb\r\n", "\x1b[3;1R"},
		{"backspace", 80, 24, 0, 0, "abcd\b\b", "\x1b[1;3R"},
		{"csi moves", 80, 24, 10, 10, "\x1b[2A\x1b[3D\x1b[C\x1b[5G", "\x1b[9;5R"},
		{"csi H", 80, 24, 0, 0, "\x1b[7;12H", "\x1b[7;12R"},
		{"pending wrap", 10, 24, 0, 0, "0123456789", "\x1b[1;10R"},
		{"wrap", 10, 24, 0, 0, "0123456789a", "\x1b[2;2R"},
		{"cr clears wrap", 10, 24, 0, 0, "0123456789\rx", "\x1b[1;2R"},
		{"utf8 one cell", 80, 24, 0, 0, "é€", "\x1b[1;3R"},
		{"wide", 80, 24, 0, 0, "设备a", "\x1b[1;6R"},
		{"combining", 80, 24, 0, 0, "e\u0301x", "\x1b[1;3R"},
		{"wide at last column wraps first", 5, 24, 0, 0, "abcd设", "\x1b[2;3R"},
		{"broken utf8", 80, 24, 0, 0, "\xc3a\x80b", "\x1b[1;5R"},
		{"colors do not move", 80, 24, 0, 0, "\x1b[1;32mok\x1b[0m\x1b[K\x1b[?25l", "\x1b[1;3R"},
		{"osc title", 80, 24, 0, 0, "\x1b]0;title\x07ab", "\x1b[1;3R"},
		{"save restore", 80, 24, 0, 0, "ab\x1b7cdef\x1b8", "\x1b[1;3R"},
	}
	for _, c := range cases {
		m := NewCursorModel(c.w, c.h, c.row, c.col)
		var fwd bytes.Buffer
		err := m.Feed([]byte(c.out), func(b []byte) error { fwd.Write(b); return nil }, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got := string(m.Report()); got != c.want {
			t.Errorf("%s: report %q, want %q", c.name, got, c.want)
		}
		if fwd.String() != c.out {
			t.Errorf("%s: forwarded %q, want %q", c.name, fwd.String(), c.out)
		}
	}
}

// Queries are removed from the stream, answered at their position, and may
// be split across reads.
func TestCursorQueryFilter(t *testing.T) {
	m := NewCursorModel(80, 24, 0, 0)
	var fwd bytes.Buffer
	var answers []string
	flush := func(b []byte) error { fwd.Write(b); return nil }
	query := func() error { answers = append(answers, string(m.Report())); return nil }
	for _, chunk := range []string{"\x1b[6n<dev>", "ab\x1b", "[6", "n\x1b[2Dz\x1b[6n"} {
		if err := m.Feed([]byte(chunk), flush, query); err != nil {
			t.Fatal(err)
		}
	}
	if fwd.String() != "<dev>ab\x1b[2Dz" {
		t.Fatalf("forwarded %q", fwd.String())
	}
	want := []string{"\x1b[1;1R", "\x1b[1;8R", "\x1b[1;7R"}
	if len(answers) != 3 || answers[0] != want[0] || answers[1] != want[1] || answers[2] != want[2] {
		t.Fatalf("answers %q, want %q", answers, want)
	}
}

func TestFindCPR(t *testing.T) {
	r, c, rest, ok := FindCPR([]byte("ab\x1b[12;34Rcd"))
	if !ok || r != 12 || c != 34 || string(rest) != "abcd" {
		t.Fatalf("%d %d %q %v", r, c, rest, ok)
	}
	for _, p := range []string{"\x1b", "x\x1b[", "\x1b[1", "\x1b[12;", "\x1b[12;3"} {
		if !PartialCPR([]byte(p)) {
			t.Errorf("PartialCPR(%q) = false", p)
		}
	}
	for _, p := range []string{"", "abc", "\x1b[12;3R", "12;3"} {
		if PartialCPR([]byte(p)) {
			t.Errorf("PartialCPR(%q) = true", p)
		}
	}
}

package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// pagedCommand prints 13 lines in pagedSession: `display dns host`'s six
// header lines and seven hosts.
const pagedCommand = "display dns host"

func pagedSession(t *testing.T) (*Session, string) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view")
	for i := 1; i <= 7; i++ {
		run(t, s, fmt.Sprintf("ip host h%d 192.0.2.%d", i, i))
	}
	out, _ := run(t, s, "return", pagedCommand)
	if n := strings.Count(out, "\n"); n != 13 {
		t.Fatalf("%s prints %d lines, not 13:\n%s", pagedCommand, n, out)
	}
	return s, out
}

func TestPager(t *testing.T) {
	s, full := pagedSession(t)
	lines := strings.SplitAfter(full, "\n")
	page := func(from, to int) string { return strings.Join(lines[from:to], "") }
	more := morePrompt
	erase := moreErase
	tests := []struct {
		name string
		keys string
		want string
	}{
		{"space pages", "   ", page(0, 4) + more + erase + page(4, 8) + more + erase + page(8, 12) + more + erase + page(12, 13)},
		{"enter one line", "\r\n  ", page(0, 4) + more + erase + page(4, 5) + more + erase + page(5, 6) + more + erase + page(6, 10) +
			more + erase + page(10, 13)},
		{"q stops", "q", page(0, 4) + more + erase},
		{"ctrl-c stops", "\x03", page(0, 4) + more + erase},
		{"other keys ignored", "xy ", page(0, 4) + more + erase + page(4, 8) + more + erase},
		{"no keys left", "", page(0, 4) + more + erase},
	}
	for _, tt := range tests {
		term := &fakeTerminal{rows: 4, keys: []byte(tt.keys)}
		if !s.Execute(context.Background(), pagedCommand, term) {
			t.Fatal("failed")
		}
		if got := term.out.String(); got != tt.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
	// screen-length disable: everything at once, no keys read.
	run(t, s, "screen-length disable")
	term := &fakeTerminal{rows: 4}
	s.Execute(context.Background(), pagedCommand, term)
	if term.out.String() != full {
		t.Errorf("screen-length disable still pages: %q", term.out.String())
	}
	run(t, s, "undo screen-length disable")
	term = &fakeTerminal{rows: 4, keys: []byte("q")}
	s.Execute(context.Background(), pagedCommand, term)
	if !strings.HasSuffix(term.out.String(), more+erase) {
		t.Errorf("undo screen-length disable does not page: %q", term.out.String())
	}
	// Rows 0 (batch): never pages.
	term = &fakeTerminal{}
	s.Execute(context.Background(), pagedCommand, term)
	if term.out.String() != full {
		t.Errorf("rows 0 pages")
	}
}

func TestPagerShortOutput(t *testing.T) {
	s, d := newTestSession(admin)
	term := &fakeTerminal{rows: 24}
	s.Execute(context.Background(), "display current-configuration", term)
	if term.out.String() != Render(d.cfg) {
		t.Errorf("got %q", term.out.String())
	}
}

// TestPagerPausesEvery24Lines: cli.md — long output pauses every 24 lines.
func TestPagerPausesEvery24Lines(t *testing.T) {
	var text strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&text, "line %d\n", i)
	}
	s, _ := newTestSession(admin)
	term := &fakeTerminal{rows: 24, keys: []byte("q")}
	s.page(term, text.String())
	lines := strings.Split(term.out.String(), "\n")
	if len(lines) != 25 || lines[23] != "line 23" || !strings.HasPrefix(lines[24], "  ---- More ----") {
		t.Fatalf("page is not 24 lines then the More prompt:\n%q", term.out.String())
	}
}

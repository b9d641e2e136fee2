package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
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

// TestScreenLength: `screen-length N` in line vty view sets the page of
// the sessions on VTY lines (0: no paging); undo gives the terminal's page
// back; the console keeps its own.
func TestScreenLength(t *testing.T) {
	s, full := pagedSession(t)
	lines := strings.SplitAfter(full, "\n")
	run(t, s, "system-view", "line vty 0 63", "screen-length 6")
	if out, _ := run(t, s, "display this"); !strings.Contains(out, "\n screen-length 6\n") {
		t.Errorf("display this:\n%s", out)
	}
	run(t, s, "return")
	term := &fakeTerminal{rows: 24, keys: []byte("q")}
	s.Execute(context.Background(), pagedCommand, term)
	if got := term.out.String(); got != strings.Join(lines[:6], "")+morePrompt+moreErase {
		t.Errorf("screen-length 6: %q", got)
	}
	run(t, s, "system-view", "line vty 0 63", "screen-length 0", "return")
	term = &fakeTerminal{rows: 4}
	if s.Execute(context.Background(), pagedCommand, term); term.out.String() != full {
		t.Errorf("screen-length 0 pages: %q", term.out.String())
	}
	// The console line is not a VTY line: its page is the terminal's.
	con := NewSession(s.dev, device.Identity{User: "console", Role: config.RoleAdmin, Line: "CON 0"})
	term = &fakeTerminal{rows: 4, keys: []byte("q")}
	con.Execute(context.Background(), pagedCommand, term)
	if got := term.out.String(); got != strings.Join(lines[:4], "")+morePrompt+moreErase {
		t.Errorf("console: %q", got)
	}
	run(t, s, "system-view", "line vty 0 63", "undo screen-length", "return")
	term = &fakeTerminal{rows: 4, keys: []byte("q")}
	s.Execute(context.Background(), pagedCommand, term)
	if got := term.out.String(); got != strings.Join(lines[:4], "")+morePrompt+moreErase {
		t.Errorf("after undo: %q", got)
	}
	for _, bad := range []string{"screen-length 513", "screen-length -1"} {
		run(t, s, "system-view", "line vty 0 63")
		if out, ok := run(t, s, bad); ok || !strings.Contains(out, wrongParam) {
			t.Errorf("%s: %q", bad, out)
		}
		run(t, s, "return")
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
	s.page(term, text.String(), term.Rows())
	lines := strings.Split(term.out.String(), "\n")
	if len(lines) != 25 || lines[23] != "line 23" || !strings.HasPrefix(lines[24], "  ---- More ----") {
		t.Fatalf("page is not 24 lines then the More prompt:\n%q", term.out.String())
	}
}

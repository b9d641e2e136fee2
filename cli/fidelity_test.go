package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Issue 17: what engineers paste, pipe and redirect.

// sshConfigured is a session whose configuration has a few ssh lines.
func sshConfigured(t *testing.T) *Session {
	t.Helper()
	s, _ := newTestSession(admin)
	run(t, s, "system-view", "ssh server enable", "ssh server authentication-retries 5",
		"ssh server authentication-timeout 30", "return", "screen-length disable")
	return s
}

func TestChainedFilters(t *testing.T) {
	s := sshConfigured(t)
	for _, tt := range []struct{ line, want string }{
		{"display current-configuration | include ssh", " ssh server enable\n ssh server authentication-retries 5\n ssh server authentication-timeout 30\n"},
		// The second filter applies to what the first kept.
		{"display current-configuration | include ssh | exclude retries", " ssh server enable\n ssh server authentication-timeout 30\n"},
		{"dis cu | inc ssh | exc retries | inc time", " ssh server authentication-timeout 30\n"},
		{"dis cu | begin ssh | include server.auth", " ssh server authentication-retries 5\n ssh server authentication-timeout 30\n"},
		// An alternation is written without spaces.
		{"dis cu | include enable|timeout", " ssh server enable\n ssh server authentication-timeout 30\n"},
		// The expression is the words as typed, spaces included.
		{"dis cu | include server  enable", ""},
		{"dis cu | include server enable", " ssh server enable\n"},
		{`dis cu | include "server enable"`, " ssh server enable\n"},
	} {
		out, ok := run(t, s, tt.line)
		if !ok || out != tt.want {
			t.Errorf("%q: ok=%v\n%q\nwant\n%q", tt.line, ok, out, tt.want)
		}
	}
}

func TestByLinenum(t *testing.T) {
	s := sshConfigured(t)
	all, _ := run(t, s, "display current-configuration")
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	out, ok := run(t, s, "display current-configuration | by-linenum")
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !ok || len(got) != len(lines) || got[0] != "    1:  #" || got[len(got)-1] != fmt.Sprintf("%5d:  return", len(lines)) {
		t.Fatalf("by-linenum:\n%s", out)
	}
	// The numbers are the lines' places in the whole output.
	at := func(line string) int { return slices.Index(lines, line) + 1 }
	out, _ = run(t, s, "display current-configuration | by-linenum include enable")
	if want := fmt.Sprintf("%5d:   ssh server enable\n", at(" ssh server enable")); out != want {
		t.Errorf("by-linenum include: %q want %q", out, want)
	}
	// begin: the lines after the first match that do not match are marked -.
	out, _ = run(t, s, "display current-configuration | by-linenum begin retries")
	if want := fmt.Sprintf("%5d:   ssh server authentication-retries 5\n%5d-   ssh server authentication-timeout 30\n",
		at(" ssh server authentication-retries 5"), at(" ssh server authentication-timeout 30")); !strings.HasPrefix(out, want) {
		t.Errorf("by-linenum begin:\n%s", out)
	}
	// by-linenum in a chain numbers the lines as the command printed them.
	out, _ = run(t, s, "dis cu | include ssh | by-linenum | exclude enable")
	if want := fmt.Sprintf("%5d:   ssh server authentication-retries 5\n%5d:   ssh server authentication-timeout 30\n",
		at(" ssh server authentication-retries 5"), at(" ssh server authentication-timeout 30")); out != want {
		t.Errorf("chain with by-linenum:\n%s", out)
	}
}

func TestFilterErrors(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"display cu | include (", caret(9+21, wrongParam)},
		{"display cu | include ssh | exclude [", caret(9+35, wrongParam)},
		{"display cu | include ssh |", caret(9+26, incomplete)},
		{"display cu | include ssh | ex", caret(9+29, incomplete)},
		{"display cu | by-linenum by-linenum", caret(9+24, unrecognized)},
		{"display cu | include | exclude x", caret(9+21, incomplete)},
		{"display cu | b x", caret(9+13, ambiguous)},
		{"display cu | include " + strings.Repeat("a", 257), caret(9+21, wrongParam)},
	} {
		s, _ := newTestSession(admin)
		if out, ok := run(t, s, tt.line); ok || out != tt.want {
			t.Errorf("%q: ok=%v\n%q\nwant\n%q", tt.line, ok, out, tt.want)
		}
	}
}

func TestRedirection(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view", "sysname R1", "return")
	want, _ := run(t, s, "display current-configuration")
	if out, ok := run(t, s, "display current-configuration > cfg.txt"); !ok || out != "" {
		t.Fatalf("redirect printed %q", out)
	}
	if d.files["cfg.txt"] != want {
		t.Errorf("cfg.txt holds %q", d.files["cfg.txt"])
	}
	run(t, s, "display current-configuration | include sysname >> cfg.txt")
	if d.files["cfg.txt"] != want+" sysname R1\n" {
		t.Errorf("after >>: %q", d.files["cfg.txt"])
	}
	run(t, s, "display clock > flash:/cfg.txt") // replaces; flash:/ prefix accepted
	if d.files["cfg.txt"] != "21:33:41 UTC Fri 05/29/2026\n" {
		t.Errorf("after >: %q", d.files["cfg.txt"])
	}
	// Bad names: Wrong parameter at the name, as save's; nothing written.
	for _, tt := range []struct{ line, want string }{
		{"display clock > ../x", caret(4+16, wrongParam)},
		{"display clock > a/b", caret(4+16, wrongParam)},
		{"display clock > .hidden", caret(4+16, wrongParam)},
		{"display clock > " + strings.Repeat("a", 65), caret(4+16, wrongParam)},
		{"display clock >", caret(4+15, incomplete)},
		{"display clock > a.txt b", caret(4+22, tooMany)},
		{"display clock > a.txt | include x", caret(4+22, tooMany)},
		{"display clock > a.txt > b.txt", caret(4+22, tooMany)},
		{"display clock >> ", caret(4+16, incomplete)},
	} {
		before := len(d.files)
		if out, ok := run(t, s, tt.line); ok || out != tt.want {
			t.Errorf("%q: ok=%v\n%q\nwant\n%q", tt.line, ok, out, tt.want)
		}
		if len(d.files) != before {
			t.Errorf("%q wrote a file", tt.line)
		}
	}
	// The device refuses its own files.
	if out, ok := run(t, s, "display clock > serial"); ok || out != " % The file flash:/serial is used by the system.\n" {
		t.Errorf("serial: %q", out)
	}
	// Writing to flash: is network-admin's, as Comware's default roles have it.
	op, od := newTestSession(operator)
	if out, ok := run(t, op, "display clock > op.txt"); ok || out != "Permission denied.\n" || len(od.files) != 0 {
		t.Errorf("operator redirect: %q", out)
	}
	if out, ok := run(t, op, "display clock"); !ok || out == "" {
		t.Errorf("operator display: %q", out)
	}
}

func TestRedirectionHelp(t *testing.T) {
	s, _ := newTestSession(admin)
	ctx := context.Background()
	for _, tt := range []struct{ line, want string }{
		{"display clock ", "  >   Redirect it to a file\n  >>  Redirect it to a file in append mode\n  |   Matching output\n  <cr>\n"},
		{"display clock >", "  >   Redirect it to a file\n  >>  Redirect it to a file in append mode\n"},
		{"display clock > ", "  STRING<1-255>  Name of the file on flash:\n"},
		{"display clock > a.txt ", "  <cr>\n"},
		{"display clock | include x ", "  >   Redirect it to a file\n  >>  Redirect it to a file in append mode\n  |   Matching output\n  <cr>\n"},
		{"display clock | by-linenum ", "  >        Redirect it to a file\n  >>       Redirect it to a file in append mode\n" +
			"  begin    Display the first line that matches the specified regular expression\n" +
			"  exclude  Display the lines that do not match the specified regular expression\n" +
			"  include  Display the lines that match the specified regular expression\n  |        Matching output\n  <cr>\n"},
		{"display clock | include ", "  TEXT  Regular expression\n"},
		{"display clock | include x | ", "  begin       Display the first line that matches the specified regular expression\n" +
			"  by-linenum  Display the number of each line\n" +
			"  exclude     Display the lines that do not match the specified regular expression\n" +
			"  include     Display the lines that match the specified regular expression\n"},
	} {
		if got := s.Help(ctx, tt.line); got != tt.want {
			t.Errorf("%q?\n%s\nwant\n%s", tt.line, got, tt.want)
		}
	}
}

func TestQuotedArguments(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	if out, ok := run(t, s, "sysname my device"); ok || out != caret(9+11, tooMany) {
		t.Errorf("unquoted: %q", out)
	}
	run(t, s, `sysname "my device"`)
	if p := s.Prompt(context.Background()); p != "[my device]" {
		t.Errorf("prompt %q", p)
	}
	if out, _ := run(t, s, "display current-configuration | include sysname"); out != " sysname \"my device\"\n" {
		t.Errorf("rendered %q", out)
	}
	// Quoting is only for what needs it.
	run(t, s, `sysname "R1"`)
	if d.cfg.Sysname != "R1" || !strings.Contains(Render(d.cfg), " sysname R1\n") {
		t.Errorf("sysname %q", d.cfg.Sysname)
	}
	for _, tt := range []struct{ line, want string }{
		{`sysname "a b" c`, caret(4+14, tooMany)},
		{`sysname "` + strings.Repeat("a", 65) + `"`, caret(4+8, wrongParam)},
		{`sysname "a "b"`, caret(4+8, wrongParam)}, // a space and a quote: nothing could quote it back
		{`sysname ""`, caret(4+8, wrongParam)},
		{`"sysname" x`, caret(4, unrecognized)}, // a quoted word is never a keyword
		{`ip host "a b" 1.1.1.1`, caret(4+8, wrongParam)},
	} {
		if out, ok := run(t, s, tt.line); ok || out != tt.want {
			t.Errorf("%q: ok=%v %q want %q", tt.line, ok, out, tt.want)
		}
	}
	// An unbalanced quote is an ordinary character.
	run(t, s, `sysname "abc`)
	if d.cfg.Sysname != `"abc` || !strings.Contains(Render(d.cfg), ` sysname ""abc"`+"\n") {
		t.Errorf("sysname %q rendered\n%s", d.cfg.Sysname, Render(d.cfg))
	}
	// History masks a quoted secret whole.
	run(t, s, `local-user bob`, `password simple "secret"`)
	if h := s.History(); h[len(h)-1] != "password simple ******" {
		t.Errorf("history %q", h[len(h)-1])
	}
}

func TestArgumentHelpLabels(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view")
	ctx := context.Background()
	for _, tt := range []struct{ line, want string }{
		{"interface Vlan-interface ", "  <1-4094>  Vlan-interface interface number\n"},
		{"sysname ", "  STRING<1-64>  Host name\n"},
		{"dns server ", "  X.X.X.X  IP address\n"},
		{"ssh server authentication-retries ", "  <1-5>  Maximum number of authentication attempts\n"},
	} {
		if got := s.Help(ctx, tt.line); got != tt.want {
			t.Errorf("%q?\n%q\nwant\n%q", tt.line, got, tt.want)
		}
	}
}

// Comment lines of a pasted configuration do nothing in any view and are
// not kept in history.
func TestPastedComments(t *testing.T) {
	s, _ := newTestSession(admin)
	for _, setup := range [][]string{nil, {"system-view"}, {"interface Vlan-interface1"}, {"quit", "line vty 0 63"}} {
		for _, line := range []string{"#", " #", "# any text", " version 7.1.064, Release 9999", "version 7.1.070, Release 0001P01"} {
			run(t, s, setup...)
			if out, ok := run(t, s, line); !ok || out != "" {
				t.Errorf("%v %q: ok=%v %q", setup, line, ok, out)
			}
		}
	}
	for _, h := range s.History() {
		if strings.Contains(h, "#") || strings.Contains(h, "version") {
			t.Errorf("history holds %q", h)
		}
	}
}

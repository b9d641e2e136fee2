package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/device"
)

// caret builds the expected error output for a caret at col.
func caret(col int, msg string) string {
	return strings.Repeat(" ", col) + "^\n " + msg + "\n"
}

const (
	unrecognized = "% Unrecognized command found at '^' position."
	incomplete   = "% Incomplete command found at '^' position."
	ambiguous    = "% Ambiguous command found at '^' position."
	tooMany      = "% Too many parameters found at '^' position."
	wrongParam   = "% Wrong parameter found at '^' position."
)

func TestErrorCarets(t *testing.T) {
	// prompt lengths: <netdevd> 9, [netdevd] 9, [netdevd-Vlan-interface1] 25,
	// [netdevd-line-vty0-63] 22, [netdevd-luser-manage-bob] 26.
	tests := []struct {
		setup []string
		line  string
		want  string
	}{
		{nil, "display clound-management state", caret(9+8, unrecognized)},
		{nil, "dis cu foo", caret(9+7, tooMany)},
		{nil, "display", caret(9+7, incomplete)},
		{nil, "display   ", caret(9+7, incomplete)},
		{nil, "s", caret(9, ambiguous)},
		{nil, "  frobnicate", caret(9+2, unrecognized)},
		{nil, "display cloud-management", caret(9+24, incomplete)},
		{nil, "sysname x", caret(9, unrecognized)}, // system view command in user view
		{nil, "display dhcp client foo", caret(9+20, unrecognized)},
		{nil, "save foo", "The file name is invalid(does not end with .cfg).\n"},
		{nil, "save ../x.cfg", caret(9+5, wrongParam)},
		{nil, "display cu | inc (", caret(9+17, wrongParam)},
		{nil, "display cu | inc", caret(9+16, incomplete)},
		{nil, "display cu | foo x", caret(9+13, unrecognized)},
		{[]string{"system-view"}, "cloud-management keepalive 9", caret(9+27, wrongParam)},
		{[]string{"system-view"}, "cloud-management keepalive abc", caret(9+27, wrongParam)},
		{[]string{"system-view"}, "cloud-management keepalive", caret(9+26, incomplete)},
		{[]string{"system-view"}, "cloud-management keepalive 10 20", caret(9+30, tooMany)},
		{[]string{"system-view"}, "cloud-management s", caret(9+18, incomplete)},
		{[]string{"system-view"}, "ssh server a 3", caret(9+11, ambiguous)},
		{[]string{"system-view"}, "system-view", caret(9, unrecognized)},
		{[]string{"system-view"}, "screen-length disable", caret(9, unrecognized)},
		{[]string{"system-view"}, "interface Vlan-interface2", caret(9+10+14, wrongParam)},
		{[]string{"system-view"}, "line vty 5 3", caret(9+11, wrongParam)},
		{[]string{"system-view"}, "line vty 64", caret(9+9, wrongParam)},
		{[]string{"system-view"}, "local-user all", caret(9+11, wrongParam)},
		{[]string{"system-view", "int vlan 1"}, "ip address dhcp-alloc x", caret(25+22, tooMany)},
		{[]string{"system-view"}, "s", caret(9, ambiguous)},
		{[]string{"system-view", "int vlan 1"}, "sysnamex x", caret(25, unrecognized)},
		{[]string{"system-view", "int vlan 1"}, "system-view", caret(25, unrecognized)},
		{[]string{"system-view", "int vlan 1"}, "ip host", caret(25+3, unrecognized)}, // the view's error, not system view's Incomplete
		{[]string{"system-view", "line vty 0 63"}, "idle-timeout 10 60", caret(22+16, wrongParam)},
		{[]string{"system-view", "line vty 0 63"}, "authentication-mode radius", caret(22+20, unrecognized)},
		{[]string{"system-view", "local-user bob class manage"}, "password hash notahash", caret(26+14, wrongParam)},
		{[]string{"system-view", "local-user bob class manage"}, "password", caret(26+8, incomplete)},
	}
	for _, tt := range tests {
		s, d := newTestSession(admin)
		before := Render(d.cfg)
		out, ok := run(t, s, append(tt.setup, tt.line)...)
		if ok || out != tt.want {
			t.Errorf("%v then %q: ok=%v got\n%q\nwant\n%q", tt.setup, tt.line, ok, out, tt.want)
		}
		if tt.setup == nil && Render(d.cfg) != before {
			t.Errorf("%q changed the configuration", tt.line)
		}
	}
}

func TestFailedLineChangesNothing(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view", "cloud-management keepalive 30")
	before := Render(d.cfg)
	for _, line := range []string{
		"cloud-management keepalive 3601", "cloud-management server port 65536",
		"cloud-management server domain -bad.example.com", "sysname " + strings.Repeat("x", 65),
	} {
		if _, ok := run(t, s, line); ok {
			t.Errorf("%q succeeded", line)
		}
	}
	if Render(d.cfg) != before {
		t.Errorf("configuration changed:\n%s", Render(d.cfg))
	}
}

func TestOperatorPermissionDenied(t *testing.T) {
	allowed := []string{"display version", "dis clock", "screen-length disable", "undo screen-length disable",
		"terminal monitor", "undo terminal monitor", "display history-command", "quit"}
	for _, line := range allowed {
		s, _ := newTestSession(operator)
		if out, ok := run(t, s, line); !ok {
			t.Errorf("operator %q: %q", line, out)
		}
	}
	for _, line := range []string{"system-view", "save force", "reset cloud-management tunnel", "save"} {
		s, d := newTestSession(operator)
		out, ok := run(t, s, line)
		if ok || out != "Permission denied.\n" {
			t.Errorf("operator %q: ok=%v %q", line, ok, out)
		}
		if len(d.saves) != 0 || d.resets != 0 {
			t.Errorf("operator %q reached the device", line)
		}
	}
	// A syntax error is reported as such even for an operator.
	s, _ := newTestSession(operator)
	if out, _ := run(t, s, "sys foo"); out != caret(9+4, tooMany) {
		t.Errorf("operator sys foo: %q", out)
	}
}

func TestDevicePermissionErrorMapped(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	d.deny = true
	out, ok := run(t, s, "sysname x")
	if ok || out != "Permission denied.\n" {
		t.Errorf("got ok=%v %q", ok, out)
	}
}

func TestEmptyLine(t *testing.T) {
	s, _ := newTestSession(admin)
	for _, line := range []string{"", "   ", "\t"} {
		if out, ok := run(t, s, line); !ok || out != "" {
			t.Errorf("%q: ok=%v %q", line, ok, out)
		}
	}
	if len(s.History()) != 0 {
		t.Errorf("history %v", s.History())
	}
}

func TestPrompts(t *testing.T) {
	s, _ := newTestSession(admin)
	ctx := context.Background()
	steps := []struct{ line, prompt string }{
		{"", "<netdevd>"},
		{"sys", "[netdevd]"},
		{"sysname R1", "[R1]"},
		{"interface Vlan-interface1", "[R1-Vlan-interface1]"},
		{"quit", "[R1]"},
		{"int vlan 1", "[R1-Vlan-interface1]"},
		{"return", "<R1>"},
		{"system-view", "[R1]"},
		{"interface vlan-interface 1", "[R1-Vlan-interface1]"},
		{"quit", "[R1]"},
		{"interface vlan1", "[R1-Vlan-interface1]"},
		{"end", "<R1>"},
		{"sys", "[R1]"},
		{"local-user admin class manage", "[R1-luser-manage-admin]"},
		{"quit", "[R1]"},
		{"line vty 0 15", "[R1-line-vty0-15]"},
		{"exit", "[R1]"},
		{"line vty 0 63", "[R1-line-vty0-63]"},
		{"quit", "[R1]"},
		{"hostname R2", "[R2]"},
		{"undo sysname", "[netdevd]"},
		{"quit", "<netdevd>"},
	}
	for _, st := range steps {
		if out, ok := run(t, s, st.line); !ok {
			t.Fatalf("%q: %s", st.line, out)
		}
		if got := s.Prompt(ctx); got != st.prompt {
			t.Fatalf("after %q prompt %q, want %q", st.line, got, st.prompt)
		}
	}
	if s.Ended() {
		t.Fatal("ended early")
	}
	run(t, s, "quit")
	if !s.Ended() {
		t.Fatal("quit in user view did not end the session")
	}
}

func TestEmptyRoleIsOperator(t *testing.T) {
	s, _ := newTestSession(device.Identity{User: "nobody"})
	if out, ok := run(t, s, "system-view"); ok || out != "Permission denied.\n" {
		t.Errorf("got ok=%v %q", ok, out)
	}
	if _, ok := run(t, s, "display clock"); !ok {
		t.Error("display refused")
	}
}

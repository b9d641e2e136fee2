package cli

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// countingDevice is the fake device with ACL match counts.
type countingDevice struct {
	*fakeDevice
	matches []device.ACLMatch
}

func (d countingDevice) ACLMatches(context.Context) ([]device.ACLMatch, error) { return d.matches, nil }

func TestACLPromptsAndViews(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view", "acl basic 2000")
	if p := s.Prompt(context.Background()); p != "[netdevd-acl-ipv4-basic-2000]" {
		t.Errorf("prompt %q", p)
	}
	run(t, s, "quit", "acl number 2999")
	if p := s.Prompt(context.Background()); p != "[netdevd-acl-ipv4-basic-2999]" {
		t.Errorf("prompt %q", p)
	}
	run(t, s, "quit")
	if p := s.Prompt(context.Background()); p != "[netdevd]" {
		t.Errorf("prompt after quit %q", p)
	}
	// Abbreviated, as fingers type it.
	run(t, s, "acl ba 2001", "ru per sou 10.1.1.0 0.0.0.255")
	if out, _ := run(t, s, "display this"); out != "#\nacl basic 2001\n rule 0 permit source 10.1.1.0 0.0.0.255\n#\nreturn\n" {
		t.Errorf("display this:\n%s", out)
	}
	// A command of system view runs there, as on Comware; the session
	// moves to system view. A user-view command stays Unrecognized.
	if out, ok := run(t, s, "system-view"); ok || out != caret(29, unrecognized) {
		t.Errorf("system-view in ACL view: %v\n%s", ok, out)
	}
	run(t, s, "sysname X")
	if p := s.Prompt(context.Background()); p != "[X]" {
		t.Errorf("prompt after sysname in ACL view %q", p)
	}
	run(t, s, "return")
	if p := s.Prompt(context.Background()); p != "<X>" {
		t.Errorf("prompt after return %q", p)
	}
}

func TestACLRanges(t *testing.T) {
	for _, tt := range []struct{ line, caretAt string }{
		{"acl basic 1999", "1999"},
		{"acl basic 3000", "3000"},
		{"acl number 1999", "1999"},
		{"acl number 3000", "3000"},
		{"ssh server acl 1999", "1999"},
		{"ssh server acl 3000", "3000"},
		{"undo acl basic 3000", "3000"},
		{"display acl 3000", "3000"},
	} {
		s, d := newTestSession(admin)
		out, ok := run(t, s, "system-view", tt.line)
		col := 9 + strings.LastIndex(tt.line, " "+tt.caretAt) + 1
		if ok || out != caret(col, wrongParam) {
			t.Errorf("%q: ok=%v\n%s", tt.line, ok, out)
		}
		if Render(d.cfg) != Render(config.Default()) {
			t.Errorf("%q changed the configuration", tt.line)
		}
	}
	for _, line := range []string{"acl basic 2000", "acl number 2999", "ssh server acl 2000", "ssh server acl 2999"} {
		s, _ := newTestSession(admin)
		if out, ok := run(t, s, "system-view", line); !ok || out != "" {
			t.Errorf("%q: ok=%v %q", line, ok, out)
		}
	}
	// Rule IDs 0-65534, addresses and wildcards; prompt [netdevd-acl-ipv4-basic-2000] is 29 wide.
	for _, tt := range []struct{ line, want string }{
		{"rule 65535 permit", caret(29+5, wrongParam)},
		{"rule permit source 10.1.1.0 0.0.0.256", caret(29+28, wrongParam)},
		{"rule permit source 10.1.1.0 255.255.255", caret(29+28, wrongParam)},
		{"rule permit source 10.1.1.0 abc", caret(29+28, wrongParam)},
		{"rule permit source 10.1.1.256 0", caret(29+19, wrongParam)},
		{"rule permit source 10.1.1.0", caret(29+27, incomplete)},
		{"rule permit source", caret(29+18, incomplete)},
		{"rule 5", caret(29+6, incomplete)},
		{"rule permit source any 1", caret(29+23, tooMany)},
		{"rule allow", caret(29+5, wrongParam)}, // a rule ID could stand there
		{"undo rule", caret(29+9, incomplete)},
	} {
		s, d := newTestSession(admin)
		out, ok := run(t, s, "system-view", "acl basic 2000", tt.line)
		if ok || out != tt.want {
			t.Errorf("%q: ok=%v\n%s\nwant\n%s", tt.line, ok, out, tt.want)
		}
		if a, _ := d.cfg.ACL(2000); len(a.Rules) != 0 {
			t.Errorf("%q added a rule", tt.line)
		}
	}
	s, d := newTestSession(admin)
	run(t, s, "system-view", "acl basic 2000", "rule 65534 permit", "rule 0 deny source 0.0.0.0 255.255.255.255")
	if out, ok := run(t, s, "rule deny source 10.0.0.0 0.255.255.255"); ok || out != " % The rule ID exceeds the upper limit. Specify a rule ID.\n" {
		t.Errorf("auto ID past 65534: %v %q", ok, out)
	}
	if a, _ := d.cfg.ACL(2000); len(a.Rules) != 2 {
		t.Errorf("rules %v", a.Rules)
	}
}

func TestACLRules(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view", "acl basic 2000",
		"rule permit source 10.1.1.5 0.0.0.255", // stored as 10.1.1.0
		"rule deny source 192.0.2.7 0",
		"rule 7 permit source 172.16.0.0 0.15.255.255",
		"rule deny",   // after 7: 10
		"rule 0 deny", // keeps rule 0's source
		"rule 2 permit source any")
	a, _ := d.cfg.ACL(2000)
	var got []string
	for _, r := range a.Rules {
		got = append(got, ruleText(r))
	}
	want := []string{
		"rule 0 deny source 10.1.1.0 0.0.0.255",
		"rule 2 permit",
		"rule 5 deny source 192.0.2.7 0",
		"rule 7 permit source 172.16.0.0 0.15.255.255",
		"rule 10 deny",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rules:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same statement as another rule is refused; nothing changes.
	before := Render(d.cfg)
	if out, ok := run(t, s, "rule 20 deny source 192.0.2.7 0.0.0.0"); ok || out != " % The rule already exists.\n" {
		t.Errorf("duplicate: %v %q", ok, out)
	}
	if out, ok := run(t, s, "rule 2 deny"); ok || out != " % The rule already exists.\n" {
		t.Errorf("edit into a duplicate: %v %q", ok, out)
	}
	if Render(d.cfg) != before {
		t.Error("a refused rule changed the configuration")
	}
	// Editing a rule into its own statement is fine; undo is silent for a missing rule.
	run(t, s, "rule 5 deny source 192.0.2.7 0", "undo rule 2", "undo rule 3", "no rule 10")
	if a, _ := d.cfg.ACL(2000); len(a.Rules) != 3 {
		t.Errorf("after undo: %v", a.Rules)
	}
	// Removed from another session: the view's commands fail.
	other := NewSession(d, admin)
	run(t, other, "system-view", "undo acl basic 2000")
	if out, ok := run(t, s, "rule permit"); ok || out != " % ACL 2000 does not exist.\n" {
		t.Errorf("rule in a removed ACL: %v %q", ok, out)
	}
	if out, _ := run(t, s, "display this"); out != "#\nacl basic 2000\n#\nreturn\n" {
		t.Errorf("display this of a removed ACL:\n%s", out)
	}
	// acl number enters the same ACL; undo acl number removes it.
	run(t, s, "quit", "acl number 2005", "rule permit", "quit", "ssh server acl 2005")
	if _, ok := d.cfg.ACL(2005); !ok || d.cfg.SSH.ACL != 2005 {
		t.Errorf("acl number: %+v", d.cfg.ACLs)
	}
	run(t, s, "undo acl number 2005", "undo acl basic 2999")
	if len(d.cfg.ACLs) != 0 || d.cfg.SSH.ACL != 2005 {
		t.Errorf("undo acl: %+v ssh acl %d", d.cfg.ACLs, d.cfg.SSH.ACL)
	}
	run(t, s, "undo ssh server acl")
	if d.cfg.SSH.ACL != 0 {
		t.Errorf("undo ssh server acl: %d", d.cfg.SSH.ACL)
	}
}

func TestACLRenderAndDisplay(t *testing.T) {
	fd := newFakeDevice()
	dev := countingDevice{fakeDevice: fd}
	s := NewSession(dev, admin)
	run(t, s, "system-view", "acl basic 2001", "rule permit source 10.1.1.0 0.0.0.255", "rule deny", "quit",
		"acl basic 2000", "quit", "ssh server enable", "ssh server acl 2001")
	want := rendered("netdevd", "#\n ssh server enable\n ssh server acl 2001\n", "#\nacl basic 2000\n#\nacl basic 2001\n"+
		" rule 0 permit source 10.1.1.0 0.0.0.255\n rule 5 deny\n")
	if got := Render(fd.cfg); got != want {
		t.Errorf("render:\n%s\nwant\n%s", got, want)
	}
	a, _ := fd.cfg.ACL(2001)
	dev.matches = []device.ACLMatch{
		{ACL: 2001, Rule: a.Rules[0], Count: 3},
		// A count for rule 5 as it was before an edit: not shown.
		{ACL: 2001, Rule: config.ACLRule{ID: 5, Permit: true}, Count: 9},
	}
	s = NewSession(dev, operator)
	out, ok := run(t, s, "display acl 2001")
	if !ok || out != "Basic IPv4 ACL 2001, 2 rules,\nACL's step is 5\n rule 0 permit source 10.1.1.0 0.0.0.255 (3 times matched)\n rule 5 deny\n" {
		t.Errorf("display acl 2001: %v\n%s", ok, out)
	}
	out, ok = run(t, s, "dis acl all")
	if !ok || out != "Basic IPv4 ACL 2000, 0 rules,\nACL's step is 5\n\nBasic IPv4 ACL 2001, 2 rules,\nACL's step is 5\n rule 0 permit source 10.1.1.0 0.0.0.255 (3 times matched)\n rule 5 deny\n" {
		t.Errorf("display acl all: %v\n%s", ok, out)
	}
	if out, ok := run(t, s, "display acl 2002"); ok || out != " % ACL 2002 does not exist.\n" {
		t.Errorf("display acl 2002: %v %q", ok, out)
	}
	if out, ok := run(t, s, "display acl all | include deny"); !ok || out != " rule 5 deny\n" {
		t.Errorf("filter: %v %q", ok, out)
	}
	// Operators may look, not change.
	s.view = view{kind: viewSystem}
	if out, ok := run(t, s, "acl basic 2003"); ok || out != "Permission denied.\n" {
		t.Errorf("operator acl: %v %q", ok, out)
	}
	// Without counts from the device, rules show without them.
	s2, _ := newTestSession(admin)
	run(t, s2, "system-view", "acl basic 2000", "rule 1 permit source 192.0.2.1 0")
	if out, _ := run(t, s2, "display acl 2000"); out != "Basic IPv4 ACL 2000, 1 rule,\nACL's step is 5\n rule 1 permit source 192.0.2.1 0\n" {
		t.Errorf("without counts:\n%s", out)
	}
	// Replay of the rendering gives the same configuration.
	fresh := newFakeDevice()
	if errs := Replay(context.Background(), fresh, Render(fd.cfg)); len(errs) != 0 || Render(fresh.cfg) != Render(fd.cfg) {
		t.Errorf("replay: %v\n%s", errs, Render(fresh.cfg))
	}
}

func TestACLMatchSemantics(t *testing.T) {
	ip := netip.MustParseAddr
	cfg := configAfter(t, "system-view", "acl basic 2000",
		"rule 10 permit source 10.1.1.0 0.0.0.255",
		"rule 5 deny source 10.1.1.5 0",
		"rule 20 permit source 10.0.0.0 0.255.0.255") // non-contiguous: 10.any.0.any
	a, _ := cfg.ACL(2000)
	for _, tt := range []struct {
		addr   string
		id     int
		permit bool
		match  bool
	}{
		{"10.1.1.5", 5, false, true},   // rule 5 comes first (ascending IDs)
		{"10.1.1.6", 10, true, true},   // rule 10
		{"10.9.0.7", 20, true, true},   // wildcard bits may be non-contiguous
		{"10.9.1.7", 0, false, false},  // no rule
		{"192.0.2.1", 0, false, false}, // no rule
		{"::ffff:10.1.1.6", 10, true, true},
	} {
		r, ok := a.Match(ip(tt.addr))
		if ok != tt.match || ok && (r.ID != tt.id || r.Permit != tt.permit) {
			t.Errorf("%s: rule %+v matched %v", tt.addr, r, ok)
		}
	}
}

func TestACLHelp(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view")
	ctx := context.Background()
	for _, tt := range []struct{ line, want string }{
		{"acl ", "  basic   Specify an IPv4 basic ACL\n  number  Specify a numbered ACL\n"},
		{"acl basic ", "  <2000-2999>  Specify a basic ACL number\n"},
		{"ssh server acl ", "  <2000-2999>  Specify a basic ACL number\n"},
		{"display acl ", "  <2000-2999>  Specify a basic ACL number\n  all          Display all ACLs\n"},
	} {
		if got := s.Help(ctx, tt.line); got != tt.want {
			t.Errorf("%q?\n%s\nwant\n%s", tt.line, got, tt.want)
		}
	}
	run(t, s, "acl basic 2000")
	for _, tt := range []struct{ line, want string }{
		{"", "IPv4 basic ACL view commands:\n  display  Display current system information\n  ping     Ping function\n  quit     Exit from current command view\n" +
			"  return   Exit to User View\n  rule     Specify an ACL rule\n  save     Save current configuration\n  tracert  Tracert function\n  undo     Cancel current setting\n"},
		{"rule ", "  <0-65534>  ID of the ACL rule\n  deny       Specify matched packets to deny\n  permit     Specify matched packets to permit\n"},
		{"rule 5 permit ", "  source  Specify a source address\n  <cr>\n"},
		{"rule permit source ", "  X.X.X.X  Source IP address\n  any      Any source IP address\n"},
		{"rule permit source 1.1.1.1 ", "  0        Wildcard bits : 0.0.0.0 ( a host )\n  X.X.X.X  Wildcard of source\n"},
	} {
		if got := s.Help(ctx, tt.line); got != tt.want {
			t.Errorf("%q?\n%s\nwant\n%s", tt.line, got, tt.want)
		}
	}
}

package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
	}
}

func TestHelpGolden(t *testing.T) {
	tests := []struct {
		file  string
		setup []string
		line  string
	}{
		{"help-user.golden", nil, ""},
		{"help-system.golden", []string{"system-view"}, ""},
		{"help-vlan-interface.golden", []string{"system-view", "interface Vlan-interface1"}, ""},
		{"help-local-user.golden", []string{"system-view", "local-user admin class manage"}, ""},
		{"help-line.golden", []string{"system-view", "line vty 0 63"}, ""},
		{"help-cloud-management.golden", []string{"system-view"}, "cloud-management "},
		{"help-cloud-keepalive.golden", []string{"system-view"}, "cloud-management keepalive "},
		{"help-cloud-domain.golden", []string{"system-view"}, "cloud-management server domain "},
		{"help-cloud-domain-value.golden", []string{"system-view"}, "cloud-management server domain a.example.com "},
		{"help-dis.golden", nil, "dis "},
		{"help-d.golden", nil, "d"},
		{"help-dis-cu.golden", nil, "dis cu "},
		{"help-pipe.golden", nil, "dis cu | "},
		{"help-pipe-include.golden", nil, "dis cu | include "},
		{"help-unrecognized.golden", nil, "dis foo "},
		{"help-ip-host.golden", []string{"system-view"}, "ip host "},
		{"help-idle-timeout.golden", []string{"system-view", "line vty 0 63"}, "idle-timeout 1 "},
	}
	for _, tt := range tests {
		s, _ := newTestSession(admin)
		for _, line := range tt.setup {
			run(t, s, line)
		}
		golden(t, tt.file, s.Help(context.Background(), tt.line))
	}
}

func TestHelpPartialValue(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view")
	got := s.Help(context.Background(), "cloud-management keepalive 1")
	if got != "  <10-3600>  Keepalive interval in seconds\n" {
		t.Errorf("got %q", got)
	}
	got = s.Help(context.Background(), "zz")
	if got != caret(9, unrecognized) {
		t.Errorf("got %q", got)
	}
}

func TestComplete(t *testing.T) {
	s, _ := newTestSession(admin)
	tests := []struct {
		line string
		want []string
	}{
		{"dis", []string{"display"}},
		{"s", []string{"save", "screen-length", "system-view"}},
		{"display c", []string{"clock", "cloud-management", "cpu-usage", "current-configuration"}},
		{"dis cloud ", []string{"state"}},
		{"sh cl", []string{"clock", "cloud-management"}},
		{"xyz ", nil},
		{"dis cu | ", []string{"begin", "by-linenum", "exclude", "include"}},
		{"dis cu | by-linenum ", []string{"begin", "exclude", "include"}},
		{"dis cu | include ssh | e", []string{"exclude"}},
		{"dis cu > ", nil},
		{"dis cu | in", []string{"include"}},
		{"dis cu | include ", nil},
	}
	for _, tt := range tests {
		if got := s.Complete(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %v want %v", tt.line, got, tt.want)
		}
	}
}

func TestMatchWord(t *testing.T) {
	n := kw("", "", kw("ip", ""), kw("ipv6", ""), kw("port", ""), kw("ping", ""), alias("show", kw("display", "")),
		alias("shutdown", kw("x", "")), kw("ssh", ""))
	tests := []struct {
		word string
		want string
		kind matchKind
	}{
		{"ip", "ip", matchOne},        // exact wins over the prefix of ipv6
		{"IPV", "ipv6", matchOne},     // case-insensitive prefix
		{"p", "", matchAmbiguous},     // port, ping
		{"po", "port", matchOne},      //
		{"show", "display", matchOne}, // alias, exact
		{"ss", "ssh", matchOne},       // a real keyword wins over alias prefixes
		{"sho", "display", matchOne},  // unique alias prefix when no keyword matches
		{"sh", "", matchAmbiguous},    // two aliases
		{"zz", "", matchNone},
	}
	for _, tt := range tests {
		got, kind := n.matchWord(tt.word)
		if kind != tt.kind || (got != nil && got.keyword != tt.want) {
			t.Errorf("%q: got %v %v", tt.word, got, kind)
		}
	}
}

package cli

import (
	"context"
	"testing"
)

// viewSetups enter each view from user view.
var viewSetups = [][]string{
	nil,
	{"system-view"},
	{"system-view", "interface Vlan-interface1"},
	{"system-view", "local-user fuzz class manage"},
	{"system-view", "line vty 0 63"},
}

// FuzzExecute: any line in any view must not panic, and a line that fails
// must leave the running configuration as it was.
func FuzzExecute(f *testing.F) {
	for _, seed := range []string{"display current-configuration", "sysname R1", "cloud-management keepalive 3601",
		"int vlan 1", "dis cu | inc (", "undo cloud backup dom", "idle-timeout 1 60", "password hash x", "s", "?",
		`sysname "a b"`, `sysname "a "b"`, "dis cu | by-linenum begin ssh | exclude x > f.txt", "dis clock >> a.txt",
		"# comment", " version 7.1.064, Release 1", "logging logbuffer size 9", `"sysname" x`} {
		for v := range viewSetups {
			f.Add(uint8(v), seed)
		}
	}
	f.Fuzz(func(t *testing.T, v uint8, line string) {
		s, d := newTestSession(admin)
		for _, setup := range viewSetups[int(v)%len(viewSetups)] {
			s.Execute(context.Background(), setup, &fakeTerminal{})
		}
		before := Render(d.cfg)
		term := &fakeTerminal{rows: 3, keys: []byte("  q")}
		if !s.Execute(context.Background(), line, term) && Render(d.cfg) != before {
			t.Fatalf("failed line %q changed the configuration:\n%s", line, term.out.String())
		}
		s.Help(context.Background(), line)
		s.Complete(line)
	})
}

// FuzzReplay: any file must load without panicking, and what it loaded
// must render to a file that loads back to the same rendering.
func FuzzReplay(f *testing.F) {
	f.Add("#\n sysname R1\n#\ninterface Vlan-interface1\n ip address dhcp-alloc\n#\nreturn\n")
	f.Add("local-user a class manage\n password hash nope\n service-type ssh\nline vty 0 63\n idle-timeout 0 0\n")
	f.Add(" cloud-management backup-server domain b.example.com port 1\n\r\n\tquit\nquit\nsystem-view\n")
	f.Add("#\n sysname \"core switch\"\nline vty 0 63\n screen-length 0\n sysname \"\"x\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		d := newFakeDevice()
		Replay(context.Background(), d, text)
		first := Render(d.cfg)
		fresh := newFakeDevice()
		if errs := Replay(context.Background(), fresh, first); len(errs) != 0 {
			t.Fatalf("rendered file does not load: %v\n%s", errs, first)
		}
		if again := Render(fresh.cfg); again != first {
			t.Fatalf("round trip differs:\n%s\nvs\n%s", first, again)
		}
	})
}

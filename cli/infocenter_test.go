package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// The fake device's log buffer and debugging switches.

func (d *fakeDevice) ResetLogBuffer(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	d.logResets++
	return nil
}

func (d *fakeDevice) SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error) {
	if d.logs == nil {
		d.logs = make(chan logbuf.Entry, 16)
	}
	return d.logs, nil
}

func (d *fakeDevice) Debugging(ctx context.Context) (device.DebugSwitches, error) {
	return d.debug, nil
}

func (d *fakeDevice) SetDebugging(ctx context.Context, which device.DebugSwitches, on bool) error {
	if err := d.check(); err != nil {
		return err
	}
	d.debug.Set(which, on)
	return nil
}

func TestInfoCenterLogbufferSize(t *testing.T) {
	c := configAfter(t, "system-view", "info-center logbuffer size 1024")
	if c.InfoCenter.LogBufferSize != 1024 {
		t.Errorf("size %d", c.InfoCenter.LogBufferSize)
	}
	c = configAfter(t, "sys", "info lo si 1", "undo info-center logbuffer size")
	if c.InfoCenter.LogBufferSize != config.DefaultLogBufferSize {
		t.Errorf("undo: size %d", c.InfoCenter.LogBufferSize)
	}
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	for _, tc := range []struct{ line, want string }{
		// caret column = len("[netdevd]") + offset of the word (after the last character when incomplete)
		{"info-center logbuffer size 0", strings.Repeat(" ", 9+27) + "^\n % Wrong parameter found at '^' position.\n"},
		{"info-center logbuffer size 1025", strings.Repeat(" ", 9+27) + "^\n % Wrong parameter found at '^' position.\n"},
		{"info-center logbuffer size", strings.Repeat(" ", 9+26) + "^\n % Incomplete command found at '^' position.\n"},
	} {
		if out, ok := run(t, s, tc.line); ok || out != tc.want {
			t.Errorf("%q: ok=%v\n%q\nwant\n%q", tc.line, ok, out, tc.want)
		}
	}
	run(t, s, "info-center logbuffer size 200")
	if out, _ := run(t, s, "display current-configuration"); !strings.Contains(out, "\n#\n sysname netdevd\n#\n info-center logbuffer size 200\n#\n") {
		t.Errorf("rendered:\n%s", out)
	}
	run(t, s, "sysname R1")
	if got := Render(d.cfg); !strings.Contains(got, "\n#\n sysname R1\n#\n info-center logbuffer size 200\n#\n") {
		t.Errorf("render order:\n%s", got)
	}
	// user view does not know it
	s2, _ := newTestSession(admin)
	if out, ok := run(t, s2, "info-center logbuffer size 10"); ok || !strings.Contains(out, "Unrecognized") {
		t.Errorf("user view: %q", out)
	}
	// network-operator may not
	s3, _ := newTestSession(operator)
	if out, _ := run(t, s3, "reset logbuffer"); out != "Permission denied.\n" {
		t.Errorf("operator reset logbuffer: %q", out)
	}
}

func TestDisplayLogbuffer(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view", "info-center logbuffer size 256", "quit")
	want := "Log buffer: Enabled\nMax buffer size: 1024\nActual buffer size: 256\nDropped messages: 0\n" +
		"Overwritten messages: 0\nCurrent messages: 1\n" +
		"%May 29 21:33:41:000 2026 netdevd CLOUD/5/CLOUD_ESTABLISHED: Cloud connection established.\n"
	if out, _ := run(t, s, "display logbuffer"); out != want {
		t.Errorf("display logbuffer:\n%s\nwant\n%s", out, want)
	}
	if out, ok := run(t, s, "reset logbuffer"); !ok || out != "" || d.logResets != 1 {
		t.Errorf("reset logbuffer: %q ok=%v resets=%d", out, ok, d.logResets)
	}
	if out, _ := run(t, s, "display logbuffer"); !strings.HasSuffix(out, "Current messages: 0\n") {
		t.Errorf("after reset:\n%s", out)
	}
	// reset is a user-view command
	if out, ok := run(t, s, "system-view", "reset logbuffer"); ok || !strings.Contains(out, "Unrecognized") {
		t.Errorf("reset logbuffer in system view: %q", out)
	}
}

func TestTerminalMonitorAndDebugging(t *testing.T) {
	s, _ := newTestSession(admin)
	if s.Monitor() {
		t.Error("terminal monitor on by default on a VTY line")
	}
	if c := NewSession(newFakeDevice(), device.Identity{User: "console", Role: config.RoleAdmin, Line: "CON 0"}); !c.Monitor() {
		t.Error("terminal monitor off by default on the console")
	}
	log := logbuf.Entry{Time: testNow.Add(320 * time.Millisecond), Module: "CFGMAN", Severity: 5, Mnemonic: "CFGMAN_CFGCHANGED", Text: "saved."}
	dbg := logbuf.Entry{Time: testNow, Module: "CLOUD", Severity: 7, Mnemonic: "EVENT", Text: "State Idle -> Resolving."}
	if _, ok := s.MonitorLine(log); ok {
		t.Error("line shown with terminal monitor off")
	}
	for _, tc := range []struct{ line, want string }{
		{"terminal monitor", "The current terminal is enabled to display logs.\n"},
		{"terminal debugging", "The current terminal is enabled to display debugging logs.\n"},
		{"undo terminal debugging", "The current terminal is disabled to display debugging logs.\n"},
		{"term deb", "The current terminal is enabled to display debugging logs.\n"},
		{"no terminal debugging", "The current terminal is disabled to display debugging logs.\n"},
	} {
		if out, ok := run(t, s, tc.line); !ok || out != tc.want {
			t.Errorf("%q: %q, want %q", tc.line, out, tc.want)
		}
	}
	run(t, s, "system-view", "sysname R1", "return")
	s.Prompt(context.Background())
	if got, ok := s.MonitorLine(log); !ok || got != "%May 29 21:33:41:320 2026 R1 CFGMAN/5/CFGMAN_CFGCHANGED: saved." {
		t.Errorf("monitor line %q %v", got, ok)
	}
	if _, ok := s.MonitorLine(dbg); ok {
		t.Error("debugging shown without terminal debugging")
	}
	run(t, s, "terminal debugging")
	if got, ok := s.MonitorLine(dbg); !ok || got != "*May 29 21:33:41:000 2026 R1 CLOUD/7/EVENT: State Idle -> Resolving." {
		t.Errorf("debug line %q %v", got, ok)
	}
	run(t, s, "undo terminal monitor")
	if _, ok := s.MonitorLine(dbg); ok {
		t.Error("debugging shown with terminal monitor off")
	}
	// network-operator may use terminal debugging (this terminal only)
	o, _ := newTestSession(operator)
	if out, ok := run(t, o, "terminal debugging"); !ok || out != "The current terminal is enabled to display debugging logs.\n" {
		t.Errorf("operator terminal debugging: %q", out)
	}
}

func TestDebuggingCommands(t *testing.T) {
	s, d := newTestSession(admin)
	if out, ok := run(t, s, "display debugging"); !ok || out != "" {
		t.Errorf("display debugging, all off: %q", out)
	}
	run(t, s, "debugging cloud-management event")
	if d.debug != (device.DebugSwitches{CloudEvent: true}) {
		t.Errorf("switches %+v", d.debug)
	}
	if out, _ := run(t, s, "display debugging"); out != "Cloud management event debugging is on\n" {
		t.Errorf("display debugging: %q", out)
	}
	run(t, s, "debugging cloud-management all")
	if out, _ := run(t, s, "display debugging"); out != "Cloud management event debugging is on\nCloud management packet debugging is on\n" {
		t.Errorf("display debugging: %q", out)
	}
	run(t, s, "undo debugging cloud-management event")
	if d.debug != (device.DebugSwitches{CloudPacket: true}) {
		t.Errorf("switches %+v", d.debug)
	}
	if out, ok := run(t, s, "undo debugging all"); !ok || out != "All possible debugging has been turned off.\n" || d.debug != (device.DebugSwitches{}) {
		t.Errorf("undo debugging all: %q %+v", out, d.debug)
	}
	run(t, s, "debug cloud pac", "undo debugging cloud-management all")
	if d.debug != (device.DebugSwitches{}) {
		t.Errorf("switches %+v", d.debug)
	}
	if out, ok := run(t, s, "debugging cloud-management"); ok || out != "                                   ^\n % Incomplete command found at '^' position.\n" {
		t.Errorf("incomplete: %q", out)
	}
	o, od := newTestSession(operator)
	if out, _ := run(t, o, "debugging cloud-management all"); out != "Permission denied.\n" || od.debug != (device.DebugSwitches{}) {
		t.Errorf("operator debugging: %q", out)
	}
	if out, ok := run(t, o, "display debugging"); !ok || out != "" {
		t.Errorf("operator display debugging: %q", out)
	}
}

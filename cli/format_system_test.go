package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/version"
)

// Format tests of the device's displays (cmd_version.go, cmd_device.go):
// the exact lines and columns of Comware 7's layouts, with values of our
// own, and the lines that screen-scraping templates key on.

// matchAll reports the lines of text that none of the patterns match: a
// template that ends in a catch-all error rule fails on such a line.
func unmatchedLines(text string, patterns ...string) []string {
	var res []*regexp.Regexp
	for _, p := range patterns {
		res = append(res, regexp.MustCompile(p))
	}
	var bad []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		ok := false
		for _, re := range res {
			ok = ok || re.MatchString(line)
		}
		if !ok {
			bad = append(bad, line)
		}
	}
	return bad
}

func TestVersionFormat(t *testing.T) {
	now := time.Date(2026, 5, 29, 21, 33, 41, 0, time.UTC)
	v := device.VersionInfo{Model: "NETDEVD-1000", Serial: "NDD123", BootTime: now.Add(-(8*24*time.Hour + 3*time.Hour + time.Minute + 30*time.Second)),
		LastReboot: device.RebootUser}
	got := VersionText(v, now)
	want := "Comware Software, Version 7.1.064, Release " + version.Release() + "\n" +
		"Copyright (c) the netdevd authors. All rights reserved.\n" +
		"NETDEVD-1000 uptime is 1 week, 1 day, 3 hours, 1 minute\n" +
		"Last reboot reason : User reboot\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// The version line as templates read it.
	m := regexp.MustCompile(`(?m)^.*Software, Version (\S+), Release (\S+)$`).FindStringSubmatch(got)
	if m == nil || m[1] != "7.1.064" || m[2] != version.Release() {
		t.Errorf("version line: %q", m)
	}
	if m := regexp.MustCompile(`(?m)^\s*(.+?)\s+uptime\s+is\s+(.+)$`).FindStringSubmatch(got); m == nil || m[1] != "NETDEVD-1000" {
		t.Errorf("uptime line: %q", m)
	}
	if m := regexp.MustCompile(`(?m)^\s*Last\s+reboot\s+reason\s*:\s*(.+)$`).FindStringSubmatch(got); m == nil || m[1] != "User reboot" {
		t.Errorf("reboot reason line: %q", m)
	}
	// Nothing else: the serial number is in `display device manuinfo`.
	if bad := unmatchedLines(got, `Comware\s+Software,\s+Version\s+\S+,\s+Release\s+\S+$`, `^\s*Copyright`,
		`^\s*.+?\s+uptime\s+is\s+.+`, `^\s*Last\s+reboot\s+reason\s*:`); bad != nil {
		t.Errorf("lines a version template does not know: %q", bad)
	}
	v.LastReboot = ""
	if !strings.Contains(VersionText(v, now), "Last reboot reason : Cold reboot\n") {
		t.Errorf("default reason:\n%s", VersionText(v, now))
	}
}

func TestDeviceFormat(t *testing.T) {
	got := DeviceText(device.VersionInfo{Model: "NETDEVD-1000"})
	want := "Slot Type              State    Subslot  Soft Ver             Patch Ver\n" +
		"1    NETDEVD-1000      Master   0        NETDEVD-1000-" + version.Release() + strings.Repeat(" ", 21-len("NETDEVD-1000-"+version.Release())) + "None\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// Each value starts under its heading.
	lines := strings.Split(got, "\n")
	for _, h := range []string{"Type", "State", "Subslot", "Soft Ver", "Patch Ver"} {
		col := strings.Index(lines[0], h)
		if col <= 0 || lines[1][col-1] != ' ' || lines[1][col] == ' ' {
			t.Errorf("column %s at %d:\n%s", h, col, got)
		}
	}
}

func TestManuinfoFormat(t *testing.T) {
	v := device.VersionInfo{Model: "NETDEVD-1000", Serial: "NDD7K2M9Q4X8W1Z5R3T6Y",
		MAC: "02:5e:aa:01:b2:0c", Manufactured: time.Date(2026, 3, 14, 23, 30, 0, 0, time.UTC)}
	got := ManuinfoText(v, time.UTC)
	want := " Slot 1 CPU 0:\n" +
		"DEVICE_NAME          : NETDEVD-1000\n" +
		"DEVICE_SERIAL_NUMBER : NDD7K2M9Q4X8W1Z5R3T6Y\n" +
		"MAC_ADDRESS          : 025E-AA01-B20C\n" +
		"MANUFACTURING_DATE   : 2026-03-14\n" +
		"VENDOR_NAME          : NETDEVD\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	fields := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([A-Z_]+)\s*:\s*(\S+)`).FindAllStringSubmatch(got, -1) {
		fields[m[1]] = m[2]
	}
	if fields["DEVICE_SERIAL_NUMBER"] != v.Serial || fields["MAC_ADDRESS"] != "025E-AA01-B20C" || fields["VENDOR_NAME"] != "NETDEVD" {
		t.Errorf("fields %v", fields)
	}
	if !regexp.MustCompile(`(?m)^\s*Slot\s+1\b`).MatchString(got) {
		t.Errorf("no slot line")
	}
	// The local date, not UTC's.
	if got := ManuinfoText(v, time.FixedZone("UTC+8", 8*3600)); !strings.Contains(got, "MANUFACTURING_DATE   : 2026-03-15\n") {
		t.Errorf("local date:\n%s", got)
	}
	if manuinfoMAC("") != "NONE" {
		t.Errorf("no MAC: %q", manuinfoMAC(""))
	}
}

func TestCPUUsageFormat(t *testing.T) {
	got := CPUUsageText(device.CPUUsage{Last5Sec: 7, Last1Min: 12, Last5Min: 100})
	want := "Slot 1 CPU 0 CPU usage:\n" +
		"       7% in last 5 seconds\n" +
		"      12% in last 1 minute\n" +
		"     100% in last 5 minutes\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	re := regexp.MustCompile(`Slot (\d+) CPU (\d+) CPU usage:\s*(\d+)% in last 5 seconds\s*(\d+)% in last 1 minute\s*(\d+)% in last 5 minutes`)
	if m := re.FindStringSubmatch(got); m == nil || m[3] != "7" || m[4] != "12" || m[5] != "100" {
		t.Errorf("parsed %q", m)
	}
}

func TestMemoryFormat(t *testing.T) {
	m := device.MemoryUsage{Total: 2048000, Free: 512000, Shared: 1024, Buffers: 20480, Cached: 307200,
		SwapTotal: 1048576, SwapFree: 1048000}
	got := MemoryText(m)
	want := "Memory statistics are measured in KB:\n" +
		"Slot 1:\n" +
		"             Total      Used      Free    Shared   Buffers    Cached   FreeRatio\n" +
		"Mem:       2048000   1536000    512000      1024     20480    307200       25.0%\n" +
		"-/+ Buffers/Cache:   1208320    839680\n" +
		"Swap:      1048576       576   1048000\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// Every number ends under the end of its heading.
	lines := strings.Split(got, "\n")
	heads := regexp.MustCompile(`\S+`).FindAllStringIndex(lines[2], -1)
	for _, row := range lines[3:6] {
		for _, num := range regexp.MustCompile(`[\d.]+%?`).FindAllStringIndex(row, -1) {
			aligned := false
			for _, h := range heads {
				aligned = aligned || h[1] == num[1]
			}
			if !aligned {
				t.Errorf("%q: the number ending at column %d is under no heading", row, num[1])
			}
		}
	}
	fields := strings.Fields(lines[3])
	if fields[0] != "Mem:" || fields[1] != "2048000" || fields[7] != "25.0%" {
		t.Errorf("Mem: fields %q", fields)
	}
	if got := MemoryText(device.MemoryUsage{}); !strings.Contains(got, "0.0%\n") {
		t.Errorf("empty: %s", got)
	}
}

func TestStartupFormat(t *testing.T) {
	got := StartupText(device.StartupInfo{Current: "startup.cfg", Next: "startup.cfg"})
	want := " Current startup saved-configuration file: flash:/startup.cfg\n" +
		" Next main startup saved-configuration file: flash:/startup.cfg\n" +
		" Next backup startup saved-configuration file: NULL\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got = StartupText(device.StartupInfo{})
	if !strings.Contains(got, "Current startup saved-configuration file: NULL\n") ||
		!regexp.MustCompile(`(?m)^\s*Next main startup saved-configuration file:\s*NULL$`).MatchString(got) {
		t.Errorf("factory boot:\n%s", got)
	}
}

func TestLocalUserFormat(t *testing.T) {
	users := []config.LocalUser{
		{Name: "admin", ServiceSSH: true, Role: config.RoleAdmin},
		{Name: "ops"},
	}
	got := LocalUserText(users)
	want := "Total 2 local users matched.\n\n" +
		"Device management user admin:\n" +
		" State:                    Active\n" +
		" Service type:             SSH\n" +
		" User group:               system\n" +
		" Bind attributes:\n" +
		" Authorization attributes:\n" +
		"  Work directory:          flash:\n" +
		"  User role list:          network-admin\n" +
		"Device management user ops:\n" +
		" State:                    Active\n" +
		" Service type:\n" +
		" User group:               system\n" +
		" Bind attributes:\n" +
		" Authorization attributes:\n" +
		"  Work directory:          flash:\n" +
		"  User role list:          network-operator\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if LocalUserText(nil) != "Total 0 local users matched.\n\n" {
		t.Errorf("none: %q", LocalUserText(nil))
	}
}

func TestSSHSessionFormat(t *testing.T) {
	users := []device.VTYSession{
		{Idx: 0, Line: "CON 0", User: "console"},
		{Idx: 1, Line: "VTY 0", Pid: 4242, Type: "SSH", User: "admin", Cipher: "aes128-gcm@openssh.com", AuthAttempts: 1},
		{Idx: 4, Line: "VTY 3", Pid: 51, Type: "SSH", User: "ops", Cipher: "chacha20-poly1305@openssh.com", AuthAttempts: 2},
	}
	got := SSHSessionText(users)
	want := "UserPid   SessID Ver   Encrypt    State          Retries  Serv     Username\n" +
		" 4242      0     2.0   aes128-gcm Established    1        Stelnet  admin\n" +
		" 51        3     2.0   chacha20-poly1305 Established    2        Stelnet  ops\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// As on Comware, the process and session numbers sit one column right
	// of their headings; the other values start under theirs.
	head, row := strings.Split(got, "\n")[0], strings.Split(got, "\n")[1]
	for h, shift := range map[string]int{"UserPid": 1, "SessID": 1, "Ver": 0, "Encrypt": 0, "State": 0, "Retries": 0, "Serv": 0, "Username": 0} {
		col := strings.Index(head, h) + shift
		if row[col-1] != ' ' || row[col] == ' ' {
			t.Errorf("column %s: %q", h, row)
		}
	}
}

func TestDirFormat(t *testing.T) {
	l := device.FlashListing{
		Files: []device.FlashFile{
			{Name: "archive", Dir: true, Time: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)},
			{Name: "startup.cfg", Size: 1361, Time: time.Date(2026, 5, 29, 21, 33, 41, 0, time.UTC)},
		},
		Total: 1046512 * 1024, Free: 843256*1024 + 1000,
	}
	got := DirText(l, time.UTC)
	want := "Directory of flash:\n" +
		"   0 drw-            - May 01 2026 08:00:00   archive\n" +
		"   1 -rw-         1361 May 29 2026 21:33:41   startup.cfg\n" +
		"\n1046512 KB total (843256 KB free)\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	re := regexp.MustCompile(`(?m)^\s*(\d+)\s+(\S+)\s+(\d+|-)\s+(\w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2})\s+(\S+)$`)
	if rows := re.FindAllStringSubmatch(got, -1); len(rows) != 2 || rows[1][3] != "1361" || rows[1][5] != "startup.cfg" {
		t.Errorf("rows %q", rows)
	}
}

func TestSystemDisplaysThroughTheGrammar(t *testing.T) {
	s, d := newTestSession(operator)
	for line, want := range map[string]string{
		"dis cpu":            "Slot 1 CPU 0 CPU usage:\n",
		"display memory":     "Memory statistics are measured in KB:\n",
		"display startup":    " Current startup saved-configuration file: flash:/startup.cfg\n",
		"dis dev":            "Slot Type",
		"dis device manu":    " Slot 1 CPU 0:\nDEVICE_NAME          : NETDEVD-1000\nDEVICE_SERIAL_NUMBER : SN0001\n",
		"display local-user": "Total 0 local users matched.\n",
		"dis ssh server ses": "UserPid   SessID",
	} {
		out, ok := run(t, s, line)
		if !ok || !strings.HasPrefix(out, want) {
			t.Errorf("%q: ok=%v\n%s", line, ok, out)
		}
	}
	// dir and reboot are network-admin's.
	for _, line := range []string{"dir", "reboot"} {
		if out, _ := run(t, s, line); out != "Permission denied.\n" {
			t.Errorf("operator %s: %q", line, out)
		}
	}
	if d.reboots != 0 {
		t.Errorf("rebooted")
	}
	a, _ := newTestSession(admin)
	for _, line := range []string{"dir", "dir flash:"} {
		if out, ok := run(t, a, line); !ok || !strings.HasPrefix(out, "Directory of flash:\n   0 drw-") {
			t.Errorf("%q: %q", line, out)
		}
	}
}

func TestLocalUserAdded(t *testing.T) {
	s, _ := newTestSession(admin)
	if out, _ := run(t, s, "system-view", "local-user bob class manage"); out != "New local user added.\n" {
		t.Errorf("new user: %q", out)
	}
	if out, _ := run(t, s, "quit", "local-user bob"); out != "" {
		t.Errorf("existing user: %q", out)
	}
}

func TestRebootDialogue(t *testing.T) {
	const (
		check   = rebootChecking + "\n"
		save    = askRebootSave
		sure    = askRebootSure
		nowText = rebootNow + "\n"
	)
	tests := []struct {
		name    string
		saved   bool // the startup file holds the running configuration
		answers []string
		want    string
		ok      bool
		reboots int
		saves   int
	}{
		{"saved, yes", true, []string{"y"}, check + sure + "y\n" + nowText, true, 1, 0},
		{"saved, no", true, []string{"n"}, check + sure + "n\n", true, 0, 0},
		{"saved, empty then yes", true, []string{"", "Y"}, check + sure + "\n" + askYesOrNo + "Y\n" + nowText, true, 1, 0},
		{"unsaved, save and reboot", false, []string{"y", "", "y", "y"},
			check + save + "y\n" + qFile + "\n" + qOverwrite + "y\n" + saved + sure + "y\n" + nowText, true, 1, 1},
		{"unsaved, do not save", false, []string{"n", "y"}, check + save + "n\n" + sure + "y\n" + nowText, true, 1, 0},
		{"unsaved, keep the old file", false, []string{"y", "", "n", "n"},
			check + save + "y\n" + qFile + "\n" + qOverwrite + "n\nConfiguration is not saved!\n" + sure + "n\n", true, 0, 0},
		{"input ends", true, nil, check + sure + "Reboot canceled.\n", false, 0, 0},
	}
	for _, tt := range tests {
		s, d := newTestSession(admin)
		run(t, s, "system-view", "sysname R1", "return")
		d.files["startup.cfg"] = "#\n sysname Old\n#\nreturn\n"
		if tt.saved {
			// Another build's version line does not count as a change.
			d.files["startup.cfg"] = strings.Replace(Render(d.cfg), "Release "+version.Release(), "Release 9999P99", 1)
		}
		term := &fakeTerminal{answers: tt.answers}
		ok := s.Execute(context.Background(), "reboot", term)
		if ok != tt.ok || term.out.String() != tt.want || d.reboots != tt.reboots || len(d.saves) != tt.saves {
			t.Errorf("%s: ok=%v reboots=%d saves=%v got\n%q\nwant\n%q", tt.name, ok, d.reboots, d.saves, term.out.String(), tt.want)
		}
	}
}

func TestReplayVersionAndLineSections(t *testing.T) {
	// What Comware writes at the top of a file, from another release, and
	// the line sections with their defaults, load without error.
	text := "#\n version 7.1.070, Release 6328P03\n#\n sysname R2\n#\n" + lineDefaults + "#\nreturn\n"
	d := newFakeDevice()
	if errs := Replay(context.Background(), d, text); errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	if d.cfg.Sysname != "R2" || d.cfg.VTY.UserRole != config.RoleOperator || d.cfg.VTY.AuthMode != "scheme" {
		t.Errorf("loaded %+v", d.cfg.VTY)
	}
	if got := Render(d.cfg); got != rendered("R2", "", "") {
		t.Errorf("render:\n%s", got)
	}
	// A fixed role cannot be changed; the line fails and nothing changes.
	errs := Replay(context.Background(), d, "line class vty\n user-role network-admin\nline con 0\n user-role network-operator\n")
	if len(errs) != 2 || errs[0].Message != wrongParam || errs[1].Message != wrongParam {
		t.Errorf("fixed roles: %v", errs)
	}
}

func TestLineViews(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view", "line class console")
	if p := s.Prompt(context.Background()); p != "[netdevd-line-class-console]" {
		t.Errorf("prompt %q", p)
	}
	if out, ok := run(t, s, "user-role network-admin"); !ok || out != "" {
		t.Errorf("console class role: %q", out)
	}
	if out, ok := run(t, s, "undo user-role"); !ok || out != "" {
		t.Errorf("undo: %q", out)
	}
	run(t, s, "quit", "line con 0")
	if p := s.Prompt(context.Background()); p != "[netdevd-line-console0]" {
		t.Errorf("prompt %q", p)
	}
	if out, ok := run(t, s, "user-role network-operator"); ok || out != caret(23+10, wrongParam) {
		t.Errorf("console role: %q", out)
	}
	if out, ok := run(t, s, "quit", "line con 1"); ok || out != caret(9+9, wrongParam) {
		t.Errorf("line con 1: %q", out)
	}
}

package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestExecAndPipedShellSurviveRestart(t *testing.T) {
	d := startDevice(t, "")
	out := d.mustExec("display device manuinfo")
	serial, _ := os.ReadFile(filepath.Join(d.dataDir, "serial"))
	if !strings.Contains(out, "DEVICE_SERIAL_NUMBER : "+strings.TrimSpace(string(serial))+"\n") {
		t.Fatalf("display device manuinfo does not show the serial %q:\n%s", serial, out)
	}

	out = d.pipeShell("system-view\nsysname edge-7\nip host cloud.example.test 127.0.0.1\ncloud-management server domain cloud.example.test\ncloud-management keepalive 30\nreturn\nsave force\nquit\n")
	if !strings.Contains(out, "[edge-7]") || !strings.Contains(out, "Saved the current configuration to mainboard device successfully.") {
		t.Fatalf("piped shell output:\n%s", out)
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Fatalf("line-mode output holds an escape sequence: %q", out)
	}

	d.restart()
	cur := d.mustExec("display current-configuration")
	for _, want := range []string{" sysname edge-7", " cloud-management server domain cloud.example.test", " cloud-management keepalive 30"} {
		if !strings.Contains(cur, want+"\n") {
			t.Errorf("after restart, current configuration lacks %q:\n%s", want, cur)
		}
	}
	if strings.Contains(cur, "keepalive 180") || strings.Contains(cur, "server port 19443") {
		t.Errorf("defaults rendered:\n%s", cur)
	}
}

func TestExecStatusOnErrorLine(t *testing.T) {
	d := startDevice(t, "")
	out, code := d.exec("display clound-management state")
	if code == 0 {
		t.Fatalf("error line gave status 0:\n%s", out)
	}
	if !strings.Contains(out, " % Unrecognized command found at '^' position.") {
		t.Fatalf("no Comware error in:\n%s", out)
	}
}

func TestBrokenStartupConfigIsSurvived(t *testing.T) {
	dir := t.TempDir()
	// ip host keeps the cloud connection's traffic on loopback.
	broken := "#\n sysname good-name\n#\n cloud-management keepalive 99999\n ip host ok.example.test 127.0.0.1\n this is not a command\n#\n cloud-management server domain ok.example.test\n#\nreturn\n"
	path := filepath.Join(dir, "startup.cfg")
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDevice(t, dir)
	cur := d.mustExec("display current-configuration")
	for _, want := range []string{" sysname good-name", " ip host ok.example.test 127.0.0.1", " cloud-management server domain ok.example.test"} {
		if !strings.Contains(cur, want) {
			t.Errorf("good line %q not loaded:\n%s", want, cur)
		}
	}
	logs := d.mustExec("display logbuffer")
	for _, line := range []int{4, 6} {
		if !regexp.MustCompile(`startup\.cfg line ` + strconv.Itoa(line) + `\b`).MatchString(logs) {
			t.Errorf("log buffer does not report bad line %d:\n%s", line, logs)
		}
	}
	d.restart()
	if got, _ := os.ReadFile(path); string(got) != broken {
		t.Fatalf("broken startup.cfg was rewritten without save:\n%s", got)
	}
}

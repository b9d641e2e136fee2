package tests

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNetmikoReadsDisplays: Netmiko's hp_comware driver reads the device's
// displays over SSH and TextFSM templates written from Comware 7's layouts
// parse them (testdata/netmiko_displays.py); the parsed fields are the
// device's own: its serial and MAC, the box's memory, the users, the SSH
// session Netmiko itself holds.
func TestNetmikoReadsDisplays(t *testing.T) {
	require(t, exec.Command(systemPython, "-c", "import netmiko, textfsm").Run() == nil,
		"python3-netmiko and python3-textfsm (scripts/install-test-deps.sh)")
	d := startSSHDevice(t)
	d.mustExec("system-view", "local-user ops class manage", "quit", "save force")
	host, port, _ := net.SplitHostPort(d.sshAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, systemPython, "testdata/netmiko_displays.py", host, port, "admin", adminPassword).CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), "DONE\n") {
		t.Fatalf("netmiko: %v\n%s", err, out)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		got[k] = v
	}
	serial, _ := os.ReadFile(filepath.Join(d.dataDir, "serial"))
	memTotal := procMemTotal(t)
	want := map[string]string{
		"DISPLAY_VERSION.0.VERSION":            "7.1.064",
		"DISPLAY_VERSION.0.MODEL":              "NETDEVD-1000",
		"DISPLAY_VERSION.0.LAST_REBOOT_REASON": "Cold reboot",
		"DISPLAY_DEVICE_MANUINFO.0.SLOT":       "1",
		"DISPLAY_DEVICE_MANUINFO.0.SERIAL":     strings.TrimSpace(string(serial)),
		"DISPLAY_DEVICE_MANUINFO.0.VENDOR":     "NETDEVD",
		"DISPLAY_DEVICE.0.TYPE":                "NETDEVD-1000",
		"DISPLAY_DEVICE.0.STATE":               "Master",
		"DISPLAY_CPU-USAGE.0.SLOT":             "1",
		"DISPLAY_MEMORY.0.TOTAL":               memTotal,
		"DISPLAY_LOCAL-USER.0.NAME":            "admin",
		"DISPLAY_LOCAL-USER.0.SERVICE":         "SSH",
		"DISPLAY_LOCAL-USER.0.ROLE":            "network-admin",
		"DISPLAY_LOCAL-USER.1.NAME":            "ops",
		"DISPLAY_LOCAL-USER.1.ROLE":            "network-operator",
		"DISPLAY_SSH_SERVER_SESSION.0.USER":    "admin",
		"DISPLAY_SSH_SERVER_SESSION.0.STATE":   "Established",
		"DISPLAY_SSH_SERVER_SESSION.0.SESSION": "0",
		"DISPLAY_SSH_SERVER_SESSION.0.RETRIES": "1",
		"DISPLAY_STARTUP.0.CURRENT":            "NULL", // first boot: the factory configuration
		"DISPLAY_STARTUP.0.NEXT_MAIN":          "flash:/startup.cfg",
		"DISPLAY_USERS.0.CURRENT":              "+",
		"DISPLAY_USERS.0.LINE":                 "VTY 0",
		"DISPLAY_USERS.0.TYPE":                 "SSH",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	checks := map[string]*regexp.Regexp{
		"DISPLAY_VERSION.0.RELEASE":           regexp.MustCompile(`^\d{4}(P\d{2})?$`),
		"DISPLAY_VERSION.0.UPTIME":            regexp.MustCompile(`^\d+ weeks?, \d+ days?, \d+ hours?, \d+ minutes?$`),
		"DISPLAY_DEVICE_MANUINFO.0.MAC":       regexp.MustCompile(`^02[0-9A-F]{2}-[0-9A-F]{4}-[0-9A-F]{4}$`),
		"DISPLAY_DEVICE_MANUINFO.0.DATE":      regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`),
		"DISPLAY_SSH_SERVER_SESSION.0.CIPHER": regexp.MustCompile(`^(aes\d+-(ctr|gcm)|chacha20-poly1305)$`),
		"DISPLAY_SSH_SERVER_SESSION.0.PID":    regexp.MustCompile(`^[1-9]\d*$`),
		"CONFIG_HEAD":                         regexp.MustCompile(`^ version 7\.1\.064, Release \d{4}(P\d{2})? \|  sysname netdevd$`),
	}
	for k, re := range checks {
		if !re.MatchString(got[k]) {
			t.Errorf("%s = %q, does not match %s", k, got[k], re)
		}
	}
	for _, k := range []string{"FIVE_SEC", "ONE_MIN", "FIVE_MIN"} {
		if n, err := strconv.Atoi(got["DISPLAY_CPU-USAGE.0."+k]); err != nil || n < 0 || n > 100 {
			t.Errorf("cpu %s = %q", k, got["DISPLAY_CPU-USAGE.0."+k])
		}
	}
	// startup.cfg is on flash:, with its size.
	found := false
	for i := 0; got["DIR."+strconv.Itoa(i)+".NAME"] != ""; i++ {
		if got["DIR."+strconv.Itoa(i)+".NAME"] == "startup.cfg" {
			fi, _ := os.Stat(filepath.Join(d.dataDir, "startup.cfg"))
			found = got["DIR."+strconv.Itoa(i)+".SIZE"] == strconv.FormatInt(fi.Size(), 10)
		}
	}
	if !found {
		t.Errorf("dir does not list startup.cfg with its size:\n%s", out)
	}
}

// procMemTotal is MemTotal of this box, which the device reports.
func procMemTotal(t *testing.T) string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^MemTotal:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no MemTotal")
	}
	return string(m[1])
}

// TestRebootRestartsTheDevice: `reboot` from a console shell and from SSH
// exec stops the daemon cleanly with status 75 (what the systemd unit
// restarts); started again, it runs from startup.cfg and says why.
func TestRebootRestartsTheDevice(t *testing.T) {
	d := startSSHDevice(t)
	d.mustExec("system-view", "sysname before-reboot", "return", "save force", "system-view", "sysname unsaved", "return")

	// The console shell lists itself in display users.
	out := d.pipeShell("display users\nquit\n")
	if !regexp.MustCompile(`(?m)^\+ 0    CON 0    \d\d:\d\d:\d\d   .+   \d+\s*$`).MatchString(out) {
		t.Errorf("display users in the console shell:\n%s", out)
	}

	// From the console shell: decline saving, confirm.
	out = d.pipeShell("reboot\nn\ny\n")
	for _, want := range []string{
		"Current configuration may be lost after the reboot, save current configuration? [Y/N]:",
		"This command will reboot the device. Continue? [Y/N]:",
		"Now rebooting, please wait...",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reboot dialogue lacks %q:\n%s", want, out)
		}
	}
	d.waitRebootExit()
	d.start()
	if v := d.mustExec("display version"); !strings.Contains(v, "Last reboot reason : User reboot\n") {
		t.Errorf("after reboot:\n%s", v)
	}
	if cur := d.mustExec("display current-configuration"); !strings.Contains(cur, " sysname before-reboot\n") {
		t.Errorf("not the startup configuration:\n%s", cur)
	}
	if st := d.mustExec("display startup"); !strings.Contains(st, " Current startup saved-configuration file: flash:/startup.cfg\n") {
		t.Errorf("display startup:\n%s", st)
	}

	// Over SSH exec, with nothing unsaved: one question.
	c := dialSSH(t, d.sshAddr, "admin", adminPassword)
	out, code := sshExec(t, c, "reboot; y")
	if code != 0 || strings.Contains(out, "save current configuration") || !strings.HasSuffix(out, "Now rebooting, please wait...\n") {
		t.Errorf("ssh reboot: status %d\n%s", code, out)
	}
	d.waitRebootExit()
	d.start()
	// A stop by SIGTERM is not a reboot: the next start is a cold one.
	d.restart()
	if v := d.mustExec("display version"); !strings.Contains(v, "Last reboot reason : Cold reboot\n") {
		t.Errorf("after a stop and start:\n%s", v)
	}
}

// waitRebootExit waits for the daemon to exit by itself after `reboot`
// and checks its status.
func (d *device) waitRebootExit() {
	d.t.Helper()
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 75 {
			d.t.Fatalf("netdevd exit after reboot: %v, want status 75; stderr:\n%s", err, d.stderr)
		}
		if !strings.Contains(d.stderr.String(), "rebooting: exiting for the service manager to restart the daemon") {
			d.t.Errorf("no reboot line in the log:\n%s", d.stderr)
		}
	case <-time.After(30 * time.Second):
		d.t.Fatalf("netdevd still running 30 s after reboot; stderr:\n%s", d.stderr)
	}
	d.cmd = nil
}

package configs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSystemdUnit checks the shipped unit's essentials and, on a machine
// with systemd-analyze (outside CI), that systemd accepts the file.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("netdevd.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/netdevd run --data-dir /var/lib/netdevd ",
		"Restart=on-failure\n",
		"RestartForceExitStatus=75\n", // daemon.RebootExitCode
		"StateDirectory=netdevd\n",
		"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE\n",
		"AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE\n",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET\n",
		"WantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("netdevd.service lacks %q", want)
		}
	}
	// systemd-analyze's verdict depends on the host's systemd version, so
	// it is a local check only, never a CI one.
	if os.Getenv("CI") == "true" {
		t.Skip("systemd-analyze verify is a local check (CI=true)")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit not verified by systemd")
	}
	dir := t.TempDir()
	fakeBin := filepath.Join(dir, "netdevd")
	os.WriteFile(fakeBin, []byte("#!/bin/sh\n"), 0o755)
	path := filepath.Join(dir, "netdevd.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/netdevd", fakeBin)), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDefaultsFileMatchesUnit: every variable the unit's ExecStart uses is
// set in netdevd.default (the packaged /etc/default/netdevd), which sets
// nothing else, and the unit reads that file.
func TestDefaultsFileMatchesUnit(t *testing.T) {
	unit, err := os.ReadFile("netdevd.service")
	if err != nil {
		t.Fatal(err)
	}
	defaults, err := os.ReadFile("netdevd.default")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "\nEnvironmentFile=-/etc/default/netdevd\n") {
		t.Error("netdevd.service does not read /etc/default/netdevd")
	}
	used := map[string]bool{}
	for _, line := range strings.Split(string(unit), "\n") {
		if strings.HasPrefix(line, "ExecStart=") {
			for _, m := range regexp.MustCompile(`\$\{?([A-Z0-9_]+)\}?`).FindAllStringSubmatch(line, -1) {
				used[m[1]] = true
			}
		}
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(defaults), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("netdevd.default: not VAR=value: %q", line)
		}
		set[name] = true
	}
	for _, want := range []string{"VLAN_INTERFACE1", "SSH_LISTEN", "CA_FILE", "LOG_FORMAT", "NETDEVD_OPTS"} {
		if !used[want] || !set[want] {
			t.Errorf("%s: used by ExecStart %v, set in netdevd.default %v", want, used[want], set[want])
		}
	}
	if len(used) != len(set) {
		t.Errorf("ExecStart uses %v, netdevd.default sets %v", used, set)
	}
}

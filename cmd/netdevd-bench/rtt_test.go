package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The round-trip rows: ms, and round trips of 2·delay beside the floor,
// with the target floor + 1 judged on the median.
func TestRTTRows(t *testing.T) {
	ds := []time.Duration{300 * time.Millisecond, 360 * time.Millisecond, 320 * time.Millisecond}
	rows := rttRows("x → Established", floorFirst, ds, "how")
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	for i := range rows {
		if err := rows[i].check(); err != nil || rows[i].Runs != 3 {
			t.Fatalf("row %+v: %v", rows[i], err)
		}
	}
	if r := rows[0]; r.Name != "x → Established (delay 25 ms each way)" || r.Unit != "ms" || r.Median != 320 || r.Note != "how" {
		t.Errorf("%+v", r)
	}
	r := rows[1]
	if r.Unit != "RTT" || r.Median != 6.4 || r.Min != 6 || r.Max != 7.2 || r.Target != "floor 6 + ≤ 1" ||
		r.Meets == nil || !*r.Meets || !strings.HasPrefix(r.Note, "+0.40 RTT over the floor of 6: DNS 1 + TCP 1") {
		t.Errorf("%+v", r)
	}
	slow := rttRows("y", floorReset, []time.Duration{400 * time.Millisecond}, "")[1]
	if err := slow.check(); err != nil || slow.Meets == nil || *slow.Meets {
		t.Errorf("8 RTT against a floor of 5 judged %+v (%v)", slow.Meets, err)
	}
}

// The relay and cloud steps in process: every row measured, the relays'
// overhead rows with their direct baselines, and no cloud row under its
// floor (a lower bound: the relays delay every byte, so a figure below
// the floor means the delay was not applied or the floor is wrong).
func TestRTTRelayAndCloudRows(t *testing.T) {
	if testing.Short() {
		t.Skip("measures")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("prerequisite missing in CI: root (the device's DNS relay listens on port 53)")
		}
		t.Skip("needs root: the device's DNS relay listens on port 53")
	}
	var out, errb strings.Builder
	if code := run([]string{"--write=false", "--runs", "3", "--only", "rttrelay,rttcloud"}, &out, &errb); code != 0 {
		t.Fatalf("status %d\n%s", code, errb.String())
	}
	res := parseTable(t, out.String())
	for _, name := range []string{"delay relay at delay 0: TLS handshake + 1 HTTPS request", "delay relay at delay 0: 1 DNS query (UDP)"} {
		if r, ok := res[name]; !ok || !strings.Contains(r, "direct:") || !strings.Contains(r, "the relay adds") {
			t.Errorf("no overhead row %q with its baseline:\n%s", name, out.String())
		}
	}
	checkFloors(t, out.String(), map[string]float64{
		"config typed → Established, in round trips":                                  floorFirst.rtt,
		"`reset cloud-management tunnel` → Established (TLS resumed), in round trips": floorReset.rtt,
		"primary RST → Established on backup, in round trips":                         floorFail.rtt,
	})
}

// The lease and SSH steps with the real binaries: a netns site with its
// DNS and controller behind relays, and both SSH servers behind relays.
func TestRTTLeaseAndSSHRows(t *testing.T) {
	requireSite(t)
	for _, tool := range []string{"unshare", "openssl", "/usr/sbin/sshd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("prerequisite missing in CI: %s", tool)
			}
			t.Skipf("prerequisite missing: %s", tool)
		}
	}
	before := children(os.Getpid())
	code, out, errs := runBench(t, "--only", "rttlease,rttssh", "--netdevd-bin", realNetdevd(t),
		"--cloudsim-bin", realBinary(t, "cloudsim"))
	if code != 0 {
		t.Fatalf("status %d\n%s", code, errs)
	}
	checkFloors(t, out, map[string]float64{rttLeaseName + ", in round trips": floorFirst.rtt})
	if !strings.Contains(out, "SSH connect + password login + exec (delay 25 ms each way)") ||
		!strings.Contains(out, "OpenSSH sshd, `date`:") {
		t.Errorf("no SSH row with its OpenSSH baseline:\n%s", out)
	}
	checkFloors(t, out, map[string]float64{"SSH after login: session open + exec + output, in round trips": 2})
	checkSiteGone(t, before)
}

// parseTable maps each row's name (the text before two spaces) to its line.
func parseTable(t *testing.T, table string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, l := range strings.Split(table, "\n") {
		if name, _, ok := strings.Cut(l, "  "); ok {
			rows[name] = l
		}
	}
	return rows
}

// checkFloors: each named RTT row is there, with a median no lower than
// its floor (1 % for clock reading) and a verdict.
func checkFloors(t *testing.T, table string, floors map[string]float64) {
	t.Helper()
	rows := parseTable(t, table)
	for name, f := range floors {
		line, ok := rows[name]
		if !ok {
			t.Errorf("no row %q:\n%s", name, table)
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, name))
		if len(fields) < 2 || fields[1] != "RTT" {
			t.Errorf("row %q: %q", name, line)
			continue
		}
		var v float64
		if _, err := fmt.Sscan(fields[0], &v); err != nil || v < 0.99*f {
			t.Errorf("row %q: %s RTT, under its floor %g", name, fields[0], f)
		}
		if !strings.Contains(line, " ok ") && !strings.Contains(line, " MISSED ") {
			t.Errorf("row %q has no verdict: %q", name, line)
		}
		t.Logf("%s: %s RTT (floor %g)", name, fields[0], f)
	}
}

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFlapDampingEndToEnd: the real daemon (race build) against a real
// cloudsim that completes auth, register and the upgrade and then breaks
// the main connection at once (`cloudsim fault on_connect=…`: an 8 MiB
// frame, then a binary frame). Each broken connection is a failed attempt:
// `display cloud-management state` over SSH names it in Failure reason, the
// device waits the growing backoff (5–10 s, then 10–20 s, per its own
// CLOUD_WAITING lines) instead of the 0–1 s jitter, and the controller's
// authentication counter moves by exactly one per broken connection. Events
// are counted, not time windows: the only time figures checked are the
// device's announced waits and the controller's own timestamps, which are
// lower bounds that no load can shorten.
func TestFlapDampingEndToEnd(t *testing.T) {
	const serial, domain = "210235A1FLAP00001", "flap.example.test"
	dir := t.TempDir()
	serials := filepath.Join(dir, "serials")
	if err := os.WriteFile(serials, []byte(serial+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cs := startFleetCloudsim(t, dir, serials, "--domain", domain)
	admin := fmt.Sprintf("127.0.0.1:%d", cs.admin)
	fault := func(kind string) {
		t.Helper()
		if out, err := exec.Command(bin("cloudsim"), "fault", "--admin", admin, "on_connect="+kind).CombinedOutput(); err != nil {
			t.Fatalf("cloudsim fault: %v\n%s", err, out)
		}
	}
	auths := func() int {
		t.Helper()
		out, err := exec.Command(bin("cloudsim"), "devices", "--json", "--admin", admin).Output()
		if err != nil {
			t.Fatalf("cloudsim devices: %v", err)
		}
		var devs []struct {
			Serial string `json:"serial"`
			Auths  int    `json:"auths"`
		}
		if err := json.Unmarshal(out, &devs); err != nil {
			t.Fatalf("cloudsim devices --json: %v\n%s", err, out)
		}
		for _, d := range devs {
			if d.Serial == serial {
				return d.Auths
			}
		}
		return 0
	}
	fault("oversize-8mib")

	_, err := os.Stat(bin("netdevd-race"))
	require(t, err == nil, "bin/netdevd-race (make test builds it)")
	d := &device{t: t, dataDir: t.TempDir(), sshAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), binary: "netdevd-race",
		args: []string{"--admin-password-file", adminPasswordFile(t), "--serial", serial,
			"--ca-file", filepath.Join(cs.tlsDir, "ca.pem")}}
	d.start()
	t.Cleanup(d.stop)
	d.mustExec("system-view", "ip host "+domain+" 127.0.0.1",
		fmt.Sprintf("cloud-management server port %d", cs.port), "cloud-management server domain "+domain)
	ssh := dialSSH(t, d.sshAddr, "admin", adminPassword)
	failure := func(want string) string {
		t.Helper()
		var out string
		waitFor(t, 60*time.Second, "Failure reason "+want, func() bool {
			out, _ = sshExec(t, ssh, "display cloud-management state")
			return strings.Contains(out, "\nFailure reason           : "+want+"\n")
		})
		return out
	}

	out := failure("Connection dropped right after establishment (Details:protocol error: frame over 64 KiB (close 1009))")
	if !strings.Contains(out, "\nLast down reason         : protocol error (Details:frame over 64 KiB (close 1009))\n") {
		t.Fatalf("after the 8 MiB frame:\n%s", out)
	}
	if n := auths(); n != 1 {
		t.Fatalf("%d authentications after the first broken connection", n)
	}
	fault("binary")
	out = failure("Connection dropped right after establishment (Details:protocol error: binary frame (close 1003))")
	if n := auths(); n != 2 {
		t.Fatalf("%d authentications after the second broken connection:\n%s", n, out)
	}
	fault("")

	// The device announced the growing backoff, never the jitter (the
	// wait is logged just after the failure is shown: wait for the line).
	re := regexp.MustCompile(`CLOUD_WAITING: Cloud connection dropped right after establishment; next attempt in (\d+) seconds\.`)
	var logs string
	waitFor(t, 30*time.Second, "two CLOUD_WAITING lines", func() bool {
		logs, _ = sshExec(t, ssh, "display logbuffer")
		return len(re.FindAllString(logs, -1)) >= 2
	})
	var waits []int // oldest first (display logbuffer)
	for _, m := range re.FindAllStringSubmatch(logs, -1) {
		n, _ := strconv.Atoi(m[1])
		waits = append(waits, n)
	}
	if len(waits) != 2 || waits[0] < 5 || waits[0] > 10 || waits[1] < 10 || waits[1] > 20 {
		t.Fatalf("announced waits %v, want one in [5,10] s then one in [10,20] s; log buffer:\n%s", waits, logs)
	}
	if strings.Contains(logs, "No cloud server reachable") {
		t.Fatalf("a broken connection announced as unreachable:\n%s", logs)
	}
	// The controller's own clock: its two authentications are at least the
	// first wait apart (whole seconds, so one less).
	var a struct {
		Total     int            `json:"total"`
		PerSecond map[string]int `json:"per_second"`
	}
	raw, err := httpGetJSON(fmt.Sprintf("http://%s/auths", admin))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(raw)
	json.Unmarshal(b, &a)
	var secs []int
	for s, n := range a.PerSecond {
		v, _ := strconv.Atoi(s)
		for i := 0; i < n; i++ {
			secs = append(secs, v)
		}
	}
	sort.Ints(secs)
	if a.Total < 2 || len(secs) != a.Total || secs[1]-secs[0] < 4 {
		t.Fatalf("controller authentications at %v (total %d): not 5 s apart", secs, a.Total)
	}
	t.Logf("announced waits %v s; controller authentications at %v", waits, secs)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// realNetdevd builds the netdevd binary once for the tests that need it.
func realNetdevd(t *testing.T) string { return realBinary(t, "netdevd") }

// realBinary builds ../NAME (cmd/NAME) into a temporary directory.
func realBinary(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds " + name)
	}
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "../"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// digits matches any figure a table row could print.
var digits = regexp.MustCompile(`[0-9]`)

func runBench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"--write=false", "--runs", "3"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// A missing binary is a failed measurement: non-zero status, the reason on
// stderr, nothing at all on stdout (no table, no number).
func TestMissingBinaryFailsLoudly(t *testing.T) {
	steps := []string{"idle", "execflood", "sshexec", "prompt", "scripts", "fleet"}
	if netemSkip() == "" { // elsewhere the netem step skips before it looks at binaries
		steps = append(steps, "netem")
	}
	if staticSkip() == "" { // likewise
		steps = append(steps, "static")
	}
	steps = append(steps, "rttssh")
	if rttLeaseSkip() == "" {
		steps = append(steps, "rttlease")
	}
	for _, only := range steps {
		t.Run(only, func(t *testing.T) {
			code, out, errs := runBench(t, "--only", only, "--netdevd-bin", "/nonexistent/netdevd",
				"--cloudsim-bin", "/nonexistent/cloudsim", "--fleet", "10")
			if code == 0 {
				t.Fatalf("status 0 with a missing binary; stdout:\n%s", out)
			}
			if out != "" {
				t.Fatalf("stdout not empty after a failure:\n%s", out)
			}
			if !strings.Contains(errs, "FAILED "+only) || !strings.Contains(errs, "/nonexistent/") {
				t.Fatalf("stderr does not say what failed:\n%s", errs)
			}
		})
	}
}

// The script-session rows (issue 11) on the real daemon: one row per
// pattern, every session counted, none lost; a baseline build (here the
// same binary) is counted side by side.
func TestScriptSessionRows(t *testing.T) {
	bin := realNetdevd(t)
	code, out, errs := runBench(t, "--only", "scripts", "--netdevd-bin", bin, "--script-sessions", "6",
		"--script-lanes", "3", "--script-baseline-bin", bin, "--script-baseline-sessions", "3")
	if code != 0 {
		t.Fatalf("status %d\nstderr:\n%s", code, errs)
	}
	for _, p := range []string{"paramiko", "return-in-probe", "command-at-prompt"} {
		re := regexp.MustCompile(`script sessions, ` + p + `: commands lost +0 lost +6 +netdevd: 0 lost \(3\) .* 0 in 6 +ok +TERM xterm 0, vt100 0, dumb 0;`)
		if !re.MatchString(out) {
			t.Errorf("no row for %s with 6 sessions, 0 lost, baseline 3 sessions:\n%s", p, out)
		}
	}
}

// A process that dies during the measurement fails the bench, and the
// numbers measured before it died are not printed.
func TestProcessDyingMidRunFailsLoudly(t *testing.T) {
	real := realNetdevd(t)
	dir := t.TempDir()
	// `run` is killed after 2 s, inside the 6 s idle window; `exec` works.
	wrapper := filepath.Join(dir, "netdevd")
	script := "#!/bin/sh\nif [ \"$1\" = run ]; then exec timeout -s KILL 3 " + real + " \"$@\"; fi\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runBench(t, "--only", "config,idle", "--netdevd-bin", wrapper, "--idle", "6s")
	if code == 0 {
		t.Fatalf("status 0 although the daemon was killed; stdout:\n%s", out)
	}
	if digits.MatchString(out) {
		t.Fatalf("a number was printed for a run that failed:\n%s", out)
	}
	if !strings.Contains(errs, "FAILED idle") || !strings.Contains(errs, "exited unexpectedly") {
		t.Fatalf("stderr:\n%s", errs)
	}
	// the config figure measured before is not printed either
	if strings.Contains(out, "config typed") {
		t.Fatalf("partial table printed:\n%s", out)
	}
}

// A binary that exits at once (not a daemon at all) fails the same way.
func TestProcessExitingAtStartFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "netdevd")
	os.WriteFile(fake, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755)
	code, out, errs := runBench(t, "--only", "prompt", "--netdevd-bin", fake)
	if code == 0 || out != "" {
		t.Fatalf("status %d, stdout %q", code, out)
	}
	if !strings.Contains(errs, "exited unexpectedly") || !strings.Contains(errs, "broken") {
		t.Fatalf("stderr:\n%s", errs)
	}
}

// The exec flood step against the real daemon: its three rows, every
// exec answered in order (or the step fails), a display clock in a flood.
func TestExecFloodRows(t *testing.T) {
	code, out, errs := runBench(t, "--only", "execflood", "--exec-count", "1000", "--exec-floods", "2",
		"--netdevd-bin", realNetdevd(t))
	if code != 0 {
		t.Fatalf("status %d\n%s", code, errs)
	}
	for _, want := range []string{"1000-exec flood: daemon peak RSS ", "idle RSS, same daemon:",
		"1000-exec flood: execs answered per second ", "1000-exec flood: SSH `display clock` during the flood ",
		"no flood, same session:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	if code := run([]string{"--only", "execflood", "--exec-count", "0"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("--exec-count 0: status %d", code)
	}
}

// The in-process measurements produce rows with their run counts, the
// files are written, and a skipped measurement carries no number.
func TestQuickMeasurementsWriteResults(t *testing.T) {
	if testing.Short() {
		t.Skip("measures")
	}
	dir := t.TempDir()
	jsonPath, md := filepath.Join(dir, "results.json"), filepath.Join(dir, "benchmarks.md")
	args := []string{"--only", "config,failover,netem", "--runs", "3", "--results", jsonPath, "--markdown", md}
	wantMeasured := 2
	if netemSkip() == "" { // netem measured here: it boots the real binaries
		args = append(args, "--netdevd-bin", realBinary(t, "netdevd"), "--cloudsim-bin", realBinary(t, "cloudsim"))
		wantMeasured += 2
	}
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	if code != 0 {
		t.Fatalf("status %d\n%s", code, errb.String())
	}
	var res Results
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Machine.Cores < 1 || res.Machine.MemoryMB < 1 {
		t.Fatalf("machine line: %+v", res.Machine)
	}
	var measured int
	for _, r := range res.Rows {
		if r.Skipped != "" {
			if r.Runs != 0 || r.Median != 0 {
				t.Errorf("skipped row with numbers: %+v", r)
			}
			continue
		}
		measured++
		if r.Runs != 3 || r.Median <= 0 || r.Min > r.Median || r.Max < r.Median {
			t.Errorf("row %+v", r)
		}
		if strings.HasPrefix(r.Name, "config typed") && (r.BaselineRuns != 3 || r.Ratio <= 0) {
			t.Errorf("baseline missing: %+v", r)
		}
	}
	if measured != wantMeasured {
		t.Fatalf("%d measured rows:\n%s", measured, out.String())
	}
	mdText, _ := os.ReadFile(md)
	if !strings.Contains(string(mdText), "| config typed") || !strings.Contains(string(mdText), "cores") {
		t.Fatalf("markdown:\n%s", mdText)
	}
	if netemSkip() != "" && !strings.Contains(out.String(), "skipped") {
		t.Fatalf("table:\n%s", out.String())
	}
}

// A small fleet through the whole fleet measurement with the real
// binaries: two shards, cold start, controller memory through cloudsim's
// admin endpoint, both restarts, the flap phase; every row carries a number
// from a run. The flap phase's per-device bound is a count of events (the
// controllers' authentications against the devices' backoff), not a timing:
// it holds on a loaded machine, and a device without flap damping (back
// within 0–1 s every time) breaks it.
func TestSmallFleetWithRestarts(t *testing.T) {
	nd, cs := realBinary(t, "netdevd"), realBinary(t, "cloudsim")
	code, out, errs := runBench(t, "--only", "fleet", "--fleet", "40", "--fleet-shard", "20",
		"--fleet-admit-window", "2s", "--fleet-flap", "70s", "--netdevd-bin", nd, "--cloudsim-bin", cs)
	if code != 0 {
		t.Fatalf("status %d\nstderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	for _, want := range []string{
		"fleet 40: start → all Established", "2 cloudsim+fleet pair(s)",
		"fleet 40: memory per device, both sides", "device side", "controller side",
		"fleet 40 restart, jitter only: all reconnected", "fleet 40 restart, jitter only: reconnections in the busiest second",
		"fleet 40 restart, admission 2s: all reconnected", "40 down events", "per-second curve: ",
		"fleet 40 flap: authentications in the busiest second  ", "fleet 40 flap: authentications in the busiest second once flapping steadily",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	t.Logf("table:\n%s", out)
	first := regexp.MustCompile(`(?m)^fleet 40 flap: authentications per device in the first 10 s \(most of any device\)\s+([0-9.]+) auths\s+1\s.*\s≤ 4\s+ok\s`)
	if m := first.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("no flap row with at least 1 and at most 4 authentications per device in the first 10 s:\n%s", out)
	}
}

func TestRowCheckRefusesUnmeasuredNumbers(t *testing.T) {
	r := Row{Name: "x", Skipped: "why", Median: 1}
	if r.check() == nil {
		t.Fatal("skipped row with a median accepted")
	}
	r = Row{Name: "x", Median: 1}
	if r.check() == nil {
		t.Fatal("row without runs accepted")
	}
	r = stat("x", "ms", []float64{3, 1, 2}).withBaseline("b", []float64{1, 1, 1}).target("≤ 2×", 2, true)
	if err := r.check(); err != nil || r.Median != 2 || r.Ratio != 2 || r.Meets == nil || !*r.Meets {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/netdevd/netdevd/cmd/netdevd/daemon
BenchmarkExec-2   	    1000	      2000 ns/op	     512 B/op	       7 allocs/op
BenchmarkExec-2   	    1000	      4000 ns/op	     512 B/op	       7 allocs/op
BenchmarkExec-2   	    1000	      3000 ns/op	     512 B/op	       7 allocs/op
PASS
`
	rows, err := parseGoBench(out)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%v %+v", err, rows)
	}
	if r := rows[0]; r.Runs != 3 || r.Median != 3 || r.Name != "go daemon.Exec" {
		t.Fatalf("%+v", r)
	}
	if _, err := parseGoBench("FAIL\n"); err == nil {
		t.Fatal("no benchmark lines accepted")
	}
}

// requireSite: root, ip and dnsmasq for a netns site. A missing one skips
// the test, or fails it with CI=true, where it must not pass by not running.
func requireSite(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, c := range []string{"ip", "dnsmasq"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing in CI: %s", strings.Join(missing, ", "))
	}
	t.Skipf("prerequisite missing: %s", strings.Join(missing, ", "))
}

// checkSiteGone: no namespace of this process's sites is left, and every
// child process started since before (children then) was reaped.
func checkSiteGone(t *testing.T, before []int) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v\n%s", err, out)
	}
	mine := fmt.Sprintf("-%d-", os.Getpid())
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "ndb-netem-") && strings.Contains(f[0], mine) {
			t.Errorf("namespace %s left behind", f[0])
		}
	}
	for _, pid := range children(os.Getpid()) {
		if !slices.Contains(before, pid) {
			t.Errorf("child process %d left (running or unreaped)", pid)
		}
	}
}

// The whole netem measurement except the qdisc (delay 0: this kernel may
// lack netem): namespaces, veth, dnsmasq with option 253, cloudsim, a
// factory-booted `netdevd run` per run, DHCP_BOUND → CLOUD_ESTABLISHED from
// its log buffer, and a teardown that leaves nothing behind.
func TestNetemSiteDelayZero(t *testing.T) {
	requireSite(t)
	c := &benchConfig{netdevdBin: realBinary(t, "netdevd"), cloudsimBin: realBinary(t, "cloudsim")}
	before := children(os.Getpid())
	ds, err := measureLeaseToEstablished(context.Background(), c, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d durations, want 2: %v", len(ds), ds)
	}
	for i, d := range ds {
		if d <= 0 || d > bootLimit {
			t.Errorf("run %d: lease → Established %v", i+1, d)
		}
	}
	t.Logf("lease → Established without delay: %v", ds)
	checkSiteGone(t, before)
}

// A site process that fails (here cloudsim, at once) is an error naming
// it, and the half-built site is torn down all the same.
func TestNetemSiteFailureCleansUp(t *testing.T) {
	requireSite(t)
	fake := filepath.Join(t.TempDir(), "cloudsim")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &benchConfig{netdevdBin: fake, cloudsimBin: fake}
	before := children(os.Getpid())
	ds, err := measureLeaseToEstablished(context.Background(), c, 0, 2)
	if err == nil || ds != nil {
		t.Fatalf("durations %v, error %v", ds, err)
	}
	if !strings.Contains(err.Error(), "cloudsim exited unexpectedly") || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("error does not say what failed: %v", err)
	}
	checkSiteGone(t, before)
}

// Where netem is missing the row is skipped with the reason, and has no
// number.
func TestNetemSkippedWithReason(t *testing.T) {
	reason := netemSkip()
	if reason == "" {
		t.Skip("netem exists here: TestQuickMeasurementsWriteResults measures it")
	}
	code, out, errs := runBench(t, "--only", "netem")
	if code != 0 {
		t.Fatalf("status %d\n%s", code, errs)
	}
	if !strings.Contains(out, netemSkippedName) || !strings.Contains(out, "skipped") || !strings.Contains(out, reason) {
		t.Fatalf("table does not skip with the reason %q:\n%s", reason, out)
	}
}

// The rows: milliseconds, and round trips of 2·delay with the ratio to the
// 6-RTT minimum; no pass/fail verdict.
func TestNetemRows(t *testing.T) {
	ds := []time.Duration{400 * time.Millisecond, 300 * time.Millisecond, 350 * time.Millisecond}
	rows := netemRows(25*time.Millisecond, ds)
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	for i := range rows {
		if err := rows[i].check(); err != nil || rows[i].Runs != 3 || rows[i].Meets != nil {
			t.Fatalf("row %+v: %v", rows[i], err)
		}
	}
	if r := rows[0]; r.Name != "lease → Established under netem (RTT 50 ms)" || r.Unit != "ms" || r.Median != 350 {
		t.Errorf("%+v", r)
	}
	if r := rows[1]; r.Unit != "RTT" || r.Median != 7 || r.Min != 6 || r.Max != 8 ||
		!strings.Contains(r.Note, "1.17× the 6-RTT minimum") || r.Target != "≥ 6 RTT minimum" {
		t.Errorf("%+v", r)
	}
}

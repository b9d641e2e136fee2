package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fleetReport mirrors the JSON of `netdevd fleet --json` (cmd/netdevd/fleet.Report).
type fleetReport struct {
	Count                 int            `json:"count"`
	Established           int            `json:"established"`
	RunSeconds            float64        `json:"run_seconds"`
	AllEstablishedSeconds float64        `json:"all_established_seconds"`
	CPUToAllSeconds       float64        `json:"cpu_to_all_established_seconds"`
	CPUTotalSeconds       float64        `json:"cpu_total_seconds"`
	RSSBeforeBytes        uint64         `json:"rss_before_bytes"`
	RSSAllBytes           uint64         `json:"rss_all_established_bytes"`
	PerDeviceRSSBytes     float64        `json:"per_device_rss_bytes"`
	PerDeviceHeapBytes    float64        `json:"per_device_heap_bytes"`
	Up                    uint64         `json:"up_events"`
	UpPerSecond           map[string]int `json:"up_per_second"`
}

// TestFleetOf100AgainstCloudsim: 100 virtual devices in one `netdevd
// fleet` process join a real cloudsim that holds their serials (file made
// by `netdevd fleet --write-serials`); all reach Established in bounded
// time and the final report's numbers are sane.
func TestFleetOf100AgainstCloudsim(t *testing.T) {
	const n = 100
	dir := t.TempDir()
	serials := filepath.Join(dir, "serials")
	if out, err := exec.Command(bin("netdevd"), "fleet", "--count", fmt.Sprint(n), "--serial-prefix", "TFLEET",
		"--write-serials", serials).CombinedOutput(); err != nil {
		t.Fatalf("fleet --write-serials: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(serials)
	if lines := strings.Count(string(b), "\nTFLEET"); lines != n || !strings.Contains(string(b), "\nTFLEET000001\n") {
		t.Fatalf("serials file has %d serials:\n%.200s", lines, b)
	}

	cs := startFleetCloudsim(t, dir, serials)
	start := time.Now()
	out, err := runFleetJSON(t, cs, n, "TFLEET", filepath.Join(dir, "report.json"))
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("netdevd fleet: %v\n%s\ncloudsim:\n%s", err, out, cs.out)
	}
	admin, report := cs.admin, filepath.Join(dir, "report.json")
	summary := regexp.MustCompile(`(?m)^fleet t=\d+s established=(\d+)/100 connecting=\d+ waiting=\d+ idle=\d+ reports/s=\d+ `)
	m := summary.FindAllStringSubmatch(string(out), -1)
	if len(m) == 0 || m[len(m)-1][1] != "100" {
		t.Fatalf("no per-second summary ending at 100/100:\n%s", out)
	}
	if !strings.Contains(string(out), "time to all Established") {
		t.Fatalf("no final report:\n%s", out)
	}

	var r fleetReport
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.Count != n || r.Established != n {
		t.Fatalf("count %d established %d", r.Count, r.Established)
	}
	if r.AllEstablishedSeconds <= 0 || r.AllEstablishedSeconds > 30 || r.AllEstablishedSeconds > wall.Seconds() {
		t.Errorf("time to all Established %.3fs (wall %.1fs)", r.AllEstablishedSeconds, wall.Seconds())
	}
	if r.CPUToAllSeconds <= 0 || r.CPUToAllSeconds > r.CPUTotalSeconds+0.01 || r.CPUTotalSeconds > 2*wall.Seconds()+1 {
		t.Errorf("CPU to all %.3fs, total %.3fs, wall %.1fs", r.CPUToAllSeconds, r.CPUTotalSeconds, wall.Seconds())
	}
	if r.RSSBeforeBytes < 1<<20 || r.RSSAllBytes <= r.RSSBeforeBytes {
		t.Errorf("RSS before %d, at all %d", r.RSSBeforeBytes, r.RSSAllBytes)
	}
	for name, v := range map[string]float64{"rss": r.PerDeviceRSSBytes, "heap": r.PerDeviceHeapBytes} {
		if v < 1e3 || v > 2e6 {
			t.Errorf("per-device %s %.0f bytes: not between 1 KB and 2 MB", name, v)
		}
	}
	sum := 0
	for _, k := range r.UpPerSecond {
		sum += k
	}
	if r.Up < n || uint64(sum) != r.Up {
		t.Errorf("up events %d, per-second curve sums to %d", r.Up, sum)
	}

	// the controller saw every serial authenticate and connect
	dev, err := exec.Command(bin("cloudsim"), "devices", "--json", "--admin", fmt.Sprintf("127.0.0.1:%d", admin)).CombinedOutput()
	if err != nil {
		t.Fatalf("cloudsim devices: %v\n%s", err, dev)
	}
	var devices []struct {
		Serial   string `json:"serial"`
		Sessions int    `json:"sessions"`
	}
	if err := json.Unmarshal(dev, &devices); err != nil {
		t.Fatalf("cloudsim devices --json: %v\n%.300s", err, dev)
	}
	if len(devices) != n {
		t.Fatalf("controller knows %d devices, want %d", len(devices), n)
	}
	for _, d := range devices {
		if d.Sessions < 1 || !strings.HasPrefix(d.Serial, "TFLEET") {
			t.Fatalf("device %+v never connected", d)
		}
	}
}

// fleetCloudsim is a cloudsim process for a fleet test.
type fleetCloudsim struct {
	port, admin int
	tlsDir      string
	out         *strings.Builder
}

// startFleetCloudsim starts cloudsim on loopback with the serials file and
// extra flags; the test's cleanup stops it.
func startFleetCloudsim(t *testing.T, dir, serials string, extra ...string) *fleetCloudsim {
	t.Helper()
	cs := &fleetCloudsim{port: freePort(t), admin: freePort(t), tlsDir: filepath.Join(dir, "tls"), out: &strings.Builder{}}
	cmd := exec.Command(bin("cloudsim"), append([]string{"run", "--listen", fmt.Sprintf("127.0.0.1:%d", cs.port),
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", cs.admin), "--serials", serials, "--tls-dir", cs.tlsDir,
		"--log-level", "error"}, extra...)...)
	cmd.Stdout, cmd.Stderr = cs.out, cs.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 10*time.Second, "cloudsim listening", func() bool {
		_, err := os.Stat(filepath.Join(cs.tlsDir, "ca.pem"))
		return err == nil && strings.Contains(cs.out.String(), "listening")
	})
	return cs
}

// runFleetJSON runs `netdevd fleet` against cs until every device is
// Established and settled, writing its report to report.
func runFleetJSON(t *testing.T, cs *fleetCloudsim, n int, prefix, report string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, bin("netdevd"), "fleet", "--count", fmt.Sprint(n),
		"--serial-prefix", prefix, "--controller", fmt.Sprintf("https://127.0.0.1:%d", cs.port),
		"--ca-file", filepath.Join(cs.tlsDir, "ca.pem"), "--exit-when-established", "--duration", "60s",
		"--json", report).CombinedOutput()
}

// TestFleetPacedByAdmissionControl: a cloudsim with admission control
// (--admit-window) answers part of a starting fleet "busy" with
// Retry-After; the devices come back at their slots and all get in.
func TestFleetPacedByAdmissionControl(t *testing.T) {
	const n = 200 // rate max(50, 200/2 s) = 100/s, burst 20: most start busy
	dir := t.TempDir()
	serials := filepath.Join(dir, "serials")
	if out, err := exec.Command(bin("netdevd"), "fleet", "--count", fmt.Sprint(n), "--serial-prefix", "TPACE",
		"--write-serials", serials).CombinedOutput(); err != nil {
		t.Fatalf("fleet --write-serials: %v\n%s", err, out)
	}
	cs := startFleetCloudsim(t, dir, serials, "--admit-window", "2s")
	report := filepath.Join(dir, "report.json")
	out, err := runFleetJSON(t, cs, n, "TPACE", report)
	if err != nil {
		t.Fatalf("netdevd fleet: %v\n%s\ncloudsim:\n%s", err, out, cs.out)
	}
	var r struct {
		Established int    `json:"established"`
		Failed      uint64 `json:"failed_events"`
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	adm, err := httpGetJSON(fmt.Sprintf("http://127.0.0.1:%d/admission", cs.admin))
	if err != nil {
		t.Fatal(err)
	}
	busy, _ := adm["busy"].(float64)
	admitted, _ := adm["admitted"].(float64)
	if r.Established != n || busy < 1 || int(admitted) < n {
		t.Fatalf("established %d of %d, busy answers %v, admitted %v: %s", r.Established, n, busy, admitted, raw)
	}
	// every busy answer is a failed attempt the device saw (CLOUD_FAILED)
	if r.Failed < uint64(busy) {
		t.Fatalf("%d failed attempts for %v busy answers", r.Failed, busy)
	}
	if !strings.Contains(string(out), "established=200/200") {
		t.Fatalf("no summary at 200/200:\n%s", out)
	}
}

// httpGetJSON fetches a JSON object (cloudsim's loopback admin endpoint).
func httpGetJSON(url string) (map[string]any, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return v, nil
}

func TestFleetFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--count", "0", "--controller", "https://127.0.0.1:1"},
		{"--count", "5"},
		{"--count", "5", "--controller", "ftp://x"},
		{"--count", "5", "--controller", "https://127.0.0.1:1", "--report-interval", "1ms"},
	} {
		out, err := exec.Command(bin("netdevd"), append([]string{"fleet"}, args...)...).CombinedOutput()
		if err == nil {
			t.Errorf("fleet %q: status 0\n%s", args, out)
			continue
		}
		if lines := strings.Count(strings.TrimSpace(string(out)), "\n"); lines != 0 {
			t.Errorf("fleet %q: want one line, got:\n%s", args, out)
		}
	}
}

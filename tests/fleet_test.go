package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fleetReport mirrors the JSON of `netdevd fleet --json` (internal/fleet.Report).
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

	port, admin := freePort(t), freePort(t)
	tlsDir := filepath.Join(dir, "tls")
	cs := exec.Command(bin("cloudsim"), "run", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", admin), "--serials", serials, "--tls-dir", tlsDir,
		"--log-level", "error")
	csOut := &strings.Builder{}
	cs.Stdout, cs.Stderr = csOut, csOut
	if err := cs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Process.Kill(); cs.Wait() })
	waitFor(t, 10*time.Second, "cloudsim listening", func() bool {
		_, err := os.Stat(filepath.Join(tlsDir, "ca.pem"))
		return err == nil && strings.Contains(csOut.String(), "listening")
	})

	report := filepath.Join(dir, "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, bin("netdevd"), "fleet", "--count", fmt.Sprint(n),
		"--serial-prefix", "TFLEET", "--controller", fmt.Sprintf("https://127.0.0.1:%d", port),
		"--ca-file", filepath.Join(tlsDir, "ca.pem"), "--exit-when-established", "--duration", "60s",
		"--json", report).CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("netdevd fleet: %v\n%s\ncloudsim:\n%s", err, out, csOut)
	}
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

package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/tmpguard"
)

var cloudsimBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cloudsim-bin-")
	if err != nil {
		panic(err)
	}
	cloudsimBin = filepath.Join(dir, "cloudsim")
	out, err := exec.Command("go", "build", "-o", cloudsimBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building cloudsim: %v\n%s", err, out)
		os.Exit(1)
	}
	code := tmpguard.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// sim is one cloudsim process.
type sim struct {
	cmd   *exec.Cmd
	port  int
	admin string
	args  []string
}

func startSim(t *testing.T, tlsDir string, port int, extra ...string) *sim {
	t.Helper()
	s := &sim{port: port, admin: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	s.args = append([]string{"run", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--admin-listen", s.admin,
		"--tls-dir", tlsDir, "--serial", "SN1", "--log-level", "warn",
		"--san", "localhost,127.0.0.1,primary.test,backup1.test,backup2.test"}, extra...)
	s.start(t)
	return s
}

func (s *sim) start(t *testing.T) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(cloudsimBin, s.args...)
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		ready := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "cloudsim listening on") {
				ready = true
				break
			}
		}
		if ready {
			go func() {
				for sc.Scan() {
				}
			}()
			s.cmd = cmd
			t.Cleanup(s.kill)
			return
		}
		cmd.Wait()
		if attempt > 20 {
			t.Fatalf("cloudsim %v did not start", s.args)
		}
		time.Sleep(50 * time.Millisecond) // port still in use after a kill
	}
}

func (s *sim) kill() {
	if s.cmd != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

func (s *sim) get(t *testing.T, path string, out any) {
	t.Helper()
	resp, err := http.Get("http://" + s.admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func (s *sim) connected(t *testing.T) bool {
	var devs []controller.DeviceInfo
	s.get(t, "/devices", &devs)
	return len(devs) == 1 && devs[0].Connected
}

func (s *sim) logSeqs(t *testing.T) []uint64 {
	var r struct{ Reports []controller.Report }
	s.get(t, "/reports?serial=SN1&service=log", &r)
	var seqs []uint64
	for _, x := range r.Reports {
		seqs = append(seqs, x.Seq)
	}
	return seqs
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func caPool(t *testing.T, dir string) *x509.CertPool {
	p, err := controller.CAPool(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type device struct {
	*cloudmgmt.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func startDevice(t *testing.T, pool *x509.CertPool) *device { return startDeviceExec(t, pool, nil) }

// startDeviceExec is startDevice whose device runs exec lines with exec.
func startDeviceExec(t *testing.T, pool *x509.CertPool, exec func(context.Context, []string) (string, bool)) *device {
	c := cloudmgmt.New(cloudmgmt.Options{Serial: "SN1", MAC: "aa:bb:cc:dd:ee:ff", RootCAs: pool,
		ResolvConf: "/nonexistent", StepTimeout: 2 * time.Second, Exec: exec})
	ctx, cancel := context.WithCancel(context.Background())
	d := &device{Client: c, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(d.done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-d.done })
	return d
}

var lo = netip.MustParseAddr("127.0.0.1")

func names(n ...string) []config.IPHost {
	var h []config.IPHost
	for _, x := range n {
		h = append(h, config.IPHost{Name: x, Addr: lo})
	}
	return h
}

func (d *device) on(domain string) func() bool {
	return func() bool {
		s := d.Status()
		return s.ConnState == "Established" && s.ServerDomain == domain
	}
}

// TestFailoverRealCloudsim: primary + two backups as real processes.
func TestFailoverRealCloudsim(t *testing.T) {
	tlsDir := t.TempDir()
	p := startSim(t, tlsDir, freePort(t))
	b1 := startSim(t, tlsDir, freePort(t))
	b2 := startSim(t, tlsDir, freePort(t))
	d := startDevice(t, caPool(t, tlsDir))
	start := time.Now()
	d.SetConfig(config.Cloud{ServerDomain: "primary.test", ServerPort: p.port, Keepalive: 10, Ping: 10,
		Backups: []config.Backup{{Domain: "backup1.test", Port: b1.port}, {Domain: "backup2.test", Port: b2.port}}},
		nil, names("primary.test", "backup1.test", "backup2.test"))
	waitFor(t, "on primary", 10*time.Second, d.on("primary.test"))
	t.Logf("config → Established (loopback TLS, real cloudsim): %v", time.Since(start))
	waitFor(t, "primary sees it", 15*time.Second, func() bool { return p.connected(t) })

	n := 0
	report := func(k int) {
		for i := 0; i < k; i++ {
			n++
			d.Report("log", map[string]any{"n": n})
		}
	}
	acked := func() bool { return d.PendingReports("log") == 0 }
	report(20)
	waitFor(t, "acked on primary", 15*time.Second, acked)
	fromPrimary := p.logSeqs(t)

	start = time.Now()
	p.kill()
	report(10) // sent during failover
	waitFor(t, "on backup1", 10*time.Second, d.on("backup1.test"))
	t.Logf("primary killed → Established on backup1: %v", time.Since(start))
	report(10)
	waitFor(t, "acked on backup1", 15*time.Second, acked)

	p.start(t) // primary back: no preemption
	time.Sleep(1500 * time.Millisecond)
	if !d.on("backup1.test")() {
		t.Fatalf("left backup1: %+v", d.Status())
	}
	fromB1 := b1.logSeqs(t)
	b1.kill()
	report(10)
	waitFor(t, "on backup2", 10*time.Second, d.on("backup2.test"))
	waitFor(t, "acked on backup2", 15*time.Second, acked)
	fromB2 := b2.logSeqs(t)

	seen := map[uint64]int{}
	for _, list := range [][]uint64{fromPrimary, fromB1, fromB2} {
		inProc := map[uint64]bool{}
		for _, s := range list {
			if inProc[s] {
				t.Fatalf("seq %d stored twice by one controller", s)
			}
			inProc[s] = true
			seen[s]++
		}
	}
	for i := 1; i <= n; i++ {
		if seen[uint64(i)] != 1 {
			t.Fatalf("seq %d received %d times (primary %v b1 %v b2 %v)", i, seen[uint64(i)], fromPrimary, fromB1, fromB2)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct seqs, want %d", len(seen), n)
	}
}

func TestBadPeersRealCloudsim(t *testing.T) {
	tlsDir := t.TempDir()
	s := startSim(t, tlsDir, freePort(t))
	// a device trusting another CA
	other := t.TempDir()
	controller.EnsureTLS(other, []string{"x"})
	d := startDevice(t, caPool(t, other))
	d.SetConfig(config.Cloud{ServerDomain: "primary.test", ServerPort: s.port, Keepalive: 10, Ping: 10}, nil, names("primary.test"))
	waitFor(t, "failure", 15*time.Second, func() bool { return d.Status().FailureReason != "" })
	if r := d.Status().FailureReason; !strings.HasPrefix(r, "TLS certificate not trusted (Details:") {
		t.Fatal(r)
	}

	d2 := startDevice(t, caPool(t, tlsDir))
	run := func(args ...string) (string, error) {
		out, err := exec.Command(cloudsimBin, append([]string{args[0], "--admin", s.admin}, args[1:]...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("fault", "reject_auth=409"); err != nil {
		t.Fatal(out, err)
	}
	d2.SetConfig(config.Cloud{ServerDomain: "primary.test", ServerPort: s.port, Keepalive: 10, Ping: 10}, nil, names("primary.test"))
	waitFor(t, "failure", 15*time.Second, func() bool { return d2.Status().FailureReason != "" })
	if st := d2.Status(); st.FailureReason != "Authentication failed (Details:injected)" || st.DeviceState != "Bound_elsewhere" {
		t.Fatalf("%q %s", st.FailureReason, st.DeviceState)
	}
	run("fault", "reject_auth=0")
	d2.Reset()
	waitFor(t, "recovered", 15*time.Second, d2.on("primary.test"))

	// exec through the CLI
	out, err := run("exec", "--serial", "SN1", "display version")
	if err == nil || !strings.Contains(out, "not available") {
		t.Fatalf("exec without Options.Exec: %q %v", out, err)
	}
	out, err = run("devices")
	if err != nil || !strings.Contains(out, "SN1") || !strings.Contains(out, "up") {
		t.Fatalf("devices: %q %v", out, err)
	}
	// oversize frame → close 1009 → back again
	if out, err := run("inject", "oversize"); err != nil {
		t.Fatal(out, err)
	}
	waitFor(t, "down", 15*time.Second, func() bool { return d2.Status().LastDownReason != "" })
	if r := d2.Status().LastDownReason; r != "protocol error (Details:frame over 64 KiB (close 1009))" {
		t.Fatal(r)
	}
	waitFor(t, "recovered", 15*time.Second, d2.on("primary.test"))
}

// TestFloodThroughCLI: `cloudsim flood` sends its execs at once; the
// device runs them one at a time and every one is answered, in order.
func TestFloodThroughCLI(t *testing.T) {
	tlsDir := t.TempDir()
	s := startSim(t, tlsDir, freePort(t))
	var running, most atomic.Int32
	d := startDeviceExec(t, caPool(t, tlsDir), func(ctx context.Context, lines []string) (string, bool) {
		n := running.Add(1)
		defer running.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		return "<" + strings.Join(lines, "|") + ">\n", lines[0] != "bad"
	})
	d.SetConfig(config.Cloud{ServerDomain: "primary.test", ServerPort: s.port, Keepalive: 10, Ping: 10}, nil, names("primary.test"))
	waitFor(t, "connected", 15*time.Second, func() bool { return s.connected(t) })
	run := func(args ...string) (string, error) {
		out, err := exec.Command(cloudsimBin, append([]string{args[0], "--admin", s.admin}, args[1:]...)...).CombinedOutput()
		return string(out), err
	}
	out, err := run("flood", "--serial", "SN1", "--count", "2000", "display clock", "display version")
	if err != nil || !strings.HasPrefix(out, "SN1: sent 2000 of 2000 execs, 2000 answered in order (2000 ok) in ") {
		t.Fatalf("%q %v", out, err)
	}
	if most.Load() != 1 {
		t.Fatalf("%d execs ran at once", most.Load())
	}
	out, err = run("flood", "--serial", "SN1", "--count", "3", "--json", "bad")
	var r controller.FloodResult
	if json.Unmarshal([]byte(out), &r) != nil || err != nil || r.Answered != 3 || !r.InOrder || r.OK != 0 || r.FirstOutput != "<bad>\n" {
		t.Fatalf("%q %v", out, err)
	}
	if out, err := run("flood", "--serial", "NOPE", "--count", "1", "x"); err == nil || !strings.Contains(out, "not connected") {
		t.Fatalf("unknown device: %q %v", out, err)
	}
}

// TestAdmitWindowFlag: --admit-window reaches the controller (admin view).
func TestAdmitWindowFlag(t *testing.T) {
	s := startSim(t, t.TempDir(), freePort(t), "--admit-window", "10s")
	var a controller.AdmissionInfo
	s.get(t, "/admission", &a)
	if a.WindowSeconds != 10 || a.RatePerSecond != 50 { // one serial: the minimum rate
		t.Fatalf("%+v", a)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--listen", "nope", "--serial", "A"},
		{"run", "--serial", "A", "--admin-listen", "0.0.0.0:1"},
		{"run", "--bound", "A"},
		{"run"},
		{"run", "--bogus"},
		{"run", "--token-ttl", "x", "--serial", "A"},
		{"run", "--admit-window", "-1s", "--serial", "A"},
		{"run", "--admit-window", "11m", "--serial", "A"},
		{"run", "--admit-window", "soon", "--serial", "A"},
		{"frobnicate"},
		{"exec", "--admin", "127.0.0.1:1"},
		{"fault", "--admin", "127.0.0.1:1", "reject_auth=abc"},
		{"flood", "--admin", "127.0.0.1:1", "--serial", "A", "--count", "0", "x"},
		{"flood", "--admin", "127.0.0.1:1", "--serial", "A"},
		{"flood", "--admin", "127.0.0.1:1", "x"},
	} {
		out, err := exec.Command(cloudsimBin, args...).CombinedOutput()
		if err == nil {
			t.Fatalf("%v: exit 0", args)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if args[0] != "frobnicate" && len(lines) != 1 {
			t.Fatalf("%v: %d lines: %s", args, len(lines), out)
		}
	}
}

// TestFlapFaultThroughCLI: `cloudsim fault on_connect=oversize-8mib` makes
// a controller that completes auth, register and the upgrade and then
// breaks the connection at once (an 8 MiB frame). The device counts it as a
// failed attempt and waits the backoff: one authentication, seen by the
// controller's counters (devices, GET /auths), while the device waits.
func TestFlapFaultThroughCLI(t *testing.T) {
	tlsDir := t.TempDir()
	s := startSim(t, tlsDir, freePort(t))
	run := func(args ...string) (string, error) {
		out, err := exec.Command(cloudsimBin, append([]string{args[0], "--admin", s.admin}, args[1:]...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("fault", "on_connect=no-such-kind"); err == nil || !strings.Contains(out, "unknown on_connect kind") {
		t.Fatalf("bad kind accepted: %q %v", out, err)
	}
	if out, err := run("fault", "on_connect=oversize-8mib"); err != nil || !strings.Contains(out, `"on_connect": "oversize-8mib"`) {
		t.Fatal(out, err)
	}
	d := startDevice(t, caPool(t, tlsDir))
	d.SetConfig(config.Cloud{ServerDomain: "primary.test", ServerPort: s.port, Keepalive: 10, Ping: 10}, nil, names("primary.test"))
	want := "Connection dropped right after establishment (Details:protocol error: frame over 64 KiB (close 1009))"
	// The failure reason is set as the attempt fails, a moment before the
	// state machine reaches Waiting: wait for both.
	st := d.Status()
	waitFor(t, "the flap", 60*time.Second, func() bool {
		st = d.Status()
		return st.FailureReason == want && st.ConnState == "Waiting"
	})
	if st.LastDownReason != "protocol error (Details:frame over 64 KiB (close 1009))" {
		t.Fatalf("after the flap: %s, down %q", st.ConnState, st.LastDownReason)
	}
	// the backoff is at least 5 s: the controller saw exactly one
	var a controller.AuthInfo
	s.get(t, "/auths", &a)
	sum := 0
	for _, n := range a.PerSecond {
		sum += n
	}
	if a.Total != 1 || sum != 1 {
		t.Fatalf("auths %+v", a)
	}
	out, err := run("devices")
	if err != nil || !regexpMatch(`(?m)^SN1\s.*\sdown\s.*\s1\s+[0-9]+\s`, out) || !strings.Contains(out, "AUTHS") {
		t.Fatalf("devices: %q %v", out, err)
	}
	if out, err := run("fault", "on_connect="); err != nil || !strings.Contains(out, `"on_connect": ""`) {
		t.Fatal(out, err)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

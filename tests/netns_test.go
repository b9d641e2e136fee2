package tests

// Helpers for end-to-end tests that need network namespaces (root): a
// "site" namespace (DHCP/DNS server, controllers) joined by a veth pair to a
// "dev" namespace whose end is the device's Vlan-interface1.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// requireNetns: root, ip and dnsmasq (skip locally, fail with CI=true).
func requireNetns(t testing.TB) {
	t.Helper()
	require(t, os.Geteuid() == 0, "root (network namespaces)")
	require(t, haveCommand("ip"), "ip (iproute2)")
	require(t, haveCommand("dnsmasq"), "dnsmasq")
}

var netnsSeq atomic.Int32

// netPair is two namespaces joined by a veth pair: siteIf in site, devIf in dev.
type netPair struct {
	t             testing.TB
	site, dev     string
	siteIf, devIf string
}

// newNetPair makes the namespaces (names with a per-run suffix) and the veth
// pair, both ends up; they are deleted in t.Cleanup. Register processes that
// run inside them after this call, so that they are stopped first.
func newNetPair(t testing.TB) *netPair {
	t.Helper()
	id := fmt.Sprintf("%d-%d", os.Getpid(), netnsSeq.Add(1))
	p := &netPair{t: t, site: "ndt-site-" + id, dev: "ndt-dev-" + id}
	short := fmt.Sprintf("%d%d", os.Getpid()%100000, netnsSeq.Load())
	p.siteIf, p.devIf = "vs"+short, "vd"+short
	ip(t, "netns", "add", p.site)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.site).Run() })
	ip(t, "netns", "add", p.dev)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.dev).Run() })
	ip(t, "-n", p.site, "link", "add", p.siteIf, "type", "veth", "peer", "name", p.devIf, "netns", p.dev)
	for _, l := range [][2]string{{p.site, "lo"}, {p.site, p.siteIf}, {p.dev, "lo"}, {p.dev, p.devIf}} {
		ip(t, "-n", l[0], "link", "set", l[1], "up")
	}
	return p
}

// ip runs ip(8) and fails the test on an error.
func ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// syncBuf collects a process's output.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a background process (in a namespace through `ip netns exec`,
// which execs in place: the pid is the program's own).
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
	once sync.Once
}

// startProc starts argv in namespace ns with stdout+stderr collected, and
// waits until its output contains ready (or it exits, or 10 s pass). The
// process is stopped (SIGTERM, then SIGKILL) and waited for in t.Cleanup.
func startProc(t testing.TB, ns, ready string, argv ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: filepath.Base(argv[0]), out: &syncBuf{}, done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.out.String(), ready) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready:\n%s", p.name, p.out)
		case <-deadline:
			t.Fatalf("%s not ready within 10 s (waiting for %q):\n%s", p.name, ready, p.out)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return p
}

// stop ends the process (SIGTERM, SIGKILL after 5 s) and waits; idempotent.
func (p *proc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
			p.t.Errorf("%s ignored SIGTERM for 5 s; killed", p.name)
		}
	})
}

// startDeviceInNetns is startDevice for a daemon run under `ip netns exec`.
// The local API socket is a file in dataDir, so exec/mustExec work from the
// test's own namespace; stop is the harness's (the pid is netdevd's).
func startDeviceInNetns(t testing.TB, ns, dataDir string, extra ...string) *device {
	t.Helper()
	return startWrappedDeviceInNetns(t, ns, nil, "netdevd", dataDir, extra...)
}

// startWrappedDeviceInNetns is startDeviceInNetns with binary (netdevd or
// netdevd-race) started through wrap (a program that execs it in place,
// such as setpriv).
func startWrappedDeviceInNetns(t testing.TB, ns string, wrap []string, binary, dataDir string, extra ...string) *device {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	d := &device{t: t, dataDir: dataDir, sshAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), args: extra}
	args := append(append([]string{"netns", "exec", ns}, wrap...), bin(binary), "run", "--data-dir", dataDir,
		"--ssh-listen", d.sshAddr, "--log-level", "debug")
	args = append(args, extra...)
	d.cmd = exec.Command("ip", args...)
	d.stderr = &bytes.Buffer{}
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	sock := filepath.Join(dataDir, "netdevd.sock")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return d
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.stop()
	t.Fatalf("netdevd (in netns %s) did not serve its local API within 10 s; stderr:\n%s", ns, d.stderr)
	return nil
}

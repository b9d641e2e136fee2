package tests

// Bring-up without DHCP, end to end with the real binaries (root): no DHCP
// server anywhere. The controller (cloudsim) and a DNS server (dnsmasq, DNS
// only) sit on another subnet in namespace "ctl", behind a gateway
// namespace that forwards; the device reaches them only through the static
// default route the engineer types over SSH. The daemon runs with the
// systemd unit's capabilities only (setpriv), so netlink, ping and tracert
// are proved to need nothing more.
//
//	dev (netdevd, 10.78.0.2/24) ── gw (10.78.0.1 | 198.51.100.1, forwarding) ── ctl (198.51.100.10: cloudsim, DNS)

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/crypto/ssh"
)

const (
	staticDevAddr = "10.78.0.2"
	staticGwDev   = "10.78.0.1"
	staticGwCtl   = "198.51.100.1"
	staticCtl     = "198.51.100.10"
	staticDomain  = "ctl.static.test"
)

// unitCaps are the capabilities configs/netdevd.service leaves the daemon.
var unitCaps = []string{"setpriv", "--bounding-set", "-all,+net_admin,+net_raw,+net_bind_service"}

// staticSite: the gateway is the netPair's site namespace; ctl is a third
// namespace joined to the gateway by a second veth pair.
type staticSite struct {
	*netPair
	t      *testing.T
	ctl    string
	dir    string
	tlsDir string
	serial string
	pw     string
}

func newStaticSite(t *testing.T) *staticSite {
	t.Helper()
	requireNetns(t)
	require(t, haveCommand("setpriv"), "setpriv (util-linux)")
	p := newNetPair(t)
	id := strings.TrimPrefix(p.site, "ndt-site-")
	short := strings.TrimPrefix(p.siteIf, "vs")
	s := &staticSite{netPair: p, t: t, ctl: "ndt-ctl-" + id, dir: t.TempDir(),
		serial: fmt.Sprintf("210235SN%012d", os.Getpid()*1000+int(netnsSeq.Load())), pw: adminPasswordFile(t)}
	s.tlsDir = filepath.Join(s.dir, "tls")
	ip(t, "netns", "add", s.ctl)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", s.ctl).Run() })
	gwIf, ctlIf := "vg"+short, "vc"+short
	ip(t, "-n", p.site, "link", "add", gwIf, "type", "veth", "peer", "name", ctlIf, "netns", s.ctl)
	for _, l := range [][2]string{{p.site, gwIf}, {s.ctl, "lo"}, {s.ctl, ctlIf}} {
		ip(t, "-n", l[0], "link", "set", l[1], "up")
	}
	ip(t, "-n", p.site, "addr", "add", staticGwDev+"/24", "dev", p.siteIf)
	ip(t, "-n", p.site, "addr", "add", staticGwCtl+"/24", "dev", gwIf)
	ip(t, "-n", s.ctl, "addr", "add", staticCtl+"/24", "dev", ctlIf)
	ip(t, "-n", s.ctl, "route", "add", "default", "via", staticGwCtl)
	if out, err := exec.Command("ip", "netns", "exec", p.site, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward").CombinedOutput(); err != nil {
		t.Fatalf("ip_forward on the gateway: %v\n%s", err, out)
	}
	return s
}

// startServers runs the DNS server (dnsmasq, no DHCP) and the controller.
func (s *staticSite) startServers() {
	s.t.Helper()
	conf := fmt.Sprintf(`listen-address=%s
bind-interfaces
no-resolv
no-hosts
address=/%s/%s
log-queries
log-facility=-
pid-file=
user=root
`, staticCtl, staticDomain, staticCtl)
	path := filepath.Join(s.dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		s.t.Fatal(err)
	}
	startProc(s.t, s.ctl, "started, version", "dnsmasq", "--no-daemon", "--conf-file="+path)
	startProc(s.t, s.ctl, "cloudsim listening on", bin("cloudsim"), "run",
		"--listen", staticCtl+":19443", "--admin-listen", "127.0.0.1:19482",
		"--tls-dir", s.tlsDir, "--serial", s.serial, "--domain", staticDomain, "--log-level", "warn")
}

// startDevice boots netdevd, built with -race, on the device's end of the
// veth with the unit's capabilities only.
func (s *staticSite) startDevice(dataDir string) *device {
	s.t.Helper()
	_, err := os.Stat(bin("netdevd-race"))
	require(s.t, err == nil, "bin/netdevd-race (make test builds it)")
	return startWrappedDeviceInNetns(s.t, s.dev, unitCaps, "netdevd-race", dataDir, "--vlan-interface1", s.devIf,
		"--ca-file", filepath.Join(s.tlsDir, "ca.pem"), "--serial", s.serial, "--admin-password-file", s.pw)
}

// dialSSHInNetns opens an SSH client to addr inside namespace ns: the TCP
// connection is made from a thread that has joined ns (a socket stays in
// the namespace it was made in).
func dialSSHInNetns(t *testing.T, ns, addr, user, pass string) *ssh.Client {
	t.Helper()
	conn, err := dialInNetns(ns, addr)
	if err != nil {
		t.Fatalf("dial %s in %s: %v", addr, ns, err)
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.Password(pass)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		conn.Close()
		t.Fatalf("ssh %s@%s: %v", user, addr, err)
	}
	c := ssh.NewClient(cc, chans, reqs)
	t.Cleanup(func() { c.Close() })
	return c
}

func dialInNetns(ns, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return nil, err
	}
	defer netns.Set(orig)
	return net.DialTimeout("tcp", addr, 10*time.Second)
}

// typeLine types line in the SSH terminal and returns what the device
// printed up to and including the next prompt.
func (p *ptyShell) typeLine(line, prompt string, timeout time.Duration) string {
	p.t.Helper()
	start := len(p.text())
	if _, err := io.WriteString(p.in, line+"\r"); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		out := p.text()[start:]
		if i := strings.Index(out, prompt); i >= 0 {
			return strings.ReplaceAll(out[:i+len(prompt)], "\r\n", "\n") // the PTY's line ends
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%q: no %q within %v; output:\n%s", line, prompt, timeout, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kernel runs ip(8) in the device's namespace and returns its output.
func (s *staticSite) kernel(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", s.dev}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("ip %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// kernelMatches: the device's namespace has (or has not) the static address
// and the static default route (protocol 78, metric = preference 60).
func (s *staticSite) kernelMatches(want bool) bool {
	addr := strings.Contains(s.kernel("-4", "addr", "show", "dev", s.devIf), "inet "+staticDevAddr+"/24 ")
	route := regexp.MustCompile(`(?m)^default via ` + regexp.QuoteMeta(staticGwDev) + ` dev ` + s.devIf + ` .*metric 60`).
		MatchString(s.kernel("route", "show", "proto", "78"))
	if want {
		return addr && route
	}
	return !addr && !route
}

func waitEstablished(t *testing.T, d *device, timeout time.Duration) {
	t.Helper()
	var out string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, _ = d.exec("display cloud-management state")
		if strings.Contains(out, "Cloud connection state   : Established\n") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs, _ := d.exec("display logbuffer")
	t.Fatalf("not Established within %v:\n%s\nlog buffer:\n%s", timeout, out, logs)
}

// bringUpLines are what the engineer types, from user view.
var bringUpLines = []struct{ line, prompt string }{
	{"system-view", "[netdevd]"},
	{"interface Vlan-interface1", "[netdevd-Vlan-interface1]"},
	{"ip address " + staticDevAddr + " 255.255.255.0", "[netdevd-Vlan-interface1]"},
	{"quit", "[netdevd]"},
	{"ip route-static 0.0.0.0 0 " + staticGwDev, "[netdevd]"},
	{"dns server " + staticCtl, "[netdevd]"},
	{"cloud-management server domain " + staticDomain, "[netdevd]"},
}

func TestBringUpWithoutDHCP(t *testing.T) {
	s := newStaticSite(t)
	s.startServers()
	dataDir := t.TempDir()
	d := s.startDevice(dataDir) // factory configuration: dhcp-alloc, and no DHCP server answers
	checkUnitCaps(t, d)
	c := dialSSHInNetns(t, s.dev, d.sshAddr, "admin", adminPassword)
	p := openPTYShell(t, c)
	p.waitOutput("<netdevd>", 10*time.Second)

	// Bad input changes nothing, in the grammar or the kernel.
	p.typeLine("system-view", "[netdevd]", 5*time.Second)
	p.typeLine("interface Vlan-interface1", "[netdevd-Vlan-interface1]", 5*time.Second)
	for _, bad := range []string{"ip address 10.78.0.0 24", "ip address 10.78.0.255 255.255.255.0", "ip address 10.78.0.2 255.0.255.0", "ip address 127.0.0.2 8"} {
		if out := p.typeLine(bad, "[netdevd-Vlan-interface1]", 5*time.Second); !strings.Contains(out, "% Wrong parameter found at '^' position.") {
			t.Errorf("%q:\n%s", bad, out)
		}
	}
	p.typeLine("return", "<netdevd>", 5*time.Second)
	if strings.Contains(s.kernel("-4", "addr", "show", "dev", s.devIf), "inet ") {
		t.Errorf("an address after refused lines:\n%s", s.kernel("-4", "addr", "show", "dev", s.devIf))
	}

	t0 := time.Now()
	for _, l := range bringUpLines {
		if out := p.typeLine(l.line, l.prompt, 5*time.Second); strings.Contains(out, "%") {
			t.Fatalf("%q:\n%s", l.line, out)
		}
	}
	waitEstablished(t, d, 30*time.Second)
	t.Logf("last bring-up line → Established in %v", time.Since(t0).Round(time.Millisecond))
	p.typeLine("return", "<netdevd>", 5*time.Second)
	if out := p.typeLine("save force", "<netdevd>", 5*time.Second); !strings.Contains(out, "successfully") {
		t.Fatalf("save force:\n%s", out)
	}
	if !s.kernelMatches(true) {
		t.Fatalf("kernel after bring-up:\n%s%s", s.kernel("-4", "addr"), s.kernel("route"))
	}
	if st := d.mustExec("display dhcp client"); strings.Contains(st, "BOUND") {
		t.Errorf("the DHCP client still runs:\n%s", st)
	}

	// ping and tracert by name, through the static route.
	out := p.typeLine("ping -c 3 "+staticDomain, "<netdevd>", 20*time.Second)
	if !strings.Contains(out, "Ping "+staticDomain+" ("+staticCtl+"): 56 data bytes, press CTRL_C to break\n") ||
		!strings.Contains(out, "3 packet(s) transmitted, 3 packet(s) received, 0.0% packet loss") ||
		!regexp.MustCompile(`56 bytes from `+regexp.QuoteMeta(staticCtl)+`: icmp_seq=2 ttl=63 time=\d+\.\d{3} ms`).MatchString(out) {
		t.Errorf("ping:\n%s", out)
	}
	out = p.typeLine("tracert "+staticCtl, "<netdevd>", 40*time.Second)
	hop := func(n int, a string) *regexp.Regexp {
		q := regexp.QuoteMeta(a)
		return regexp.MustCompile(fmt.Sprintf(`(?m)^ %d  %s \(%s\)  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$`, n, q, q))
	}
	if !hop(1, staticGwDev).MatchString(out) || !hop(2, staticCtl).MatchString(out) || strings.Contains(out, " 3 ") {
		t.Errorf("tracert: want the gateway, then the controller:\n%s", out)
	}
	if out, code := sshExec(t, c, "ping -c 2 -s 100 "+staticCtl); code != 0 || !strings.Contains(out, "2 packet(s) received") {
		t.Errorf("ping over SSH exec: %d\n%s", code, out)
	}
	checkNetworkDisplays(t, d)
	t.Run("netmiko", func(t *testing.T) { netmikoReadsNetwork(t, s, d) })

	// Behind the device's back: the address goes, the daemon puts it back.
	ip(t, "-n", s.dev, "addr", "del", staticDevAddr+"/24", "dev", s.devIf)
	waitFor(t, 20*time.Second, "the address restored", func() bool { return s.kernelMatches(true) })
	if logs := d.mustExec("display logbuffer"); !strings.Contains(logs, "IP_ADDR_RESTORED") {
		t.Errorf("no IP_ADDR_RESTORED line:\n%s", logs)
	}

	// A restart from startup.cfg, with the kernel wiped meanwhile, puts
	// address and route back.
	d.stop()
	checkNoRace(t, d)
	ip(t, "-n", s.dev, "addr", "flush", "dev", s.devIf)
	ip(t, "-n", s.dev, "route", "flush", "proto", "78")
	if !s.kernelMatches(false) {
		t.Fatal("flush left the address or route")
	}
	d = s.startDevice(dataDir)
	waitFor(t, 20*time.Second, "address and route applied at boot", func() bool { return s.kernelMatches(true) })
	waitEstablished(t, d, 30*time.Second)

	// undo takes them out of the kernel.
	c = dialSSHInNetns(t, s.dev, d.sshAddr, "admin", adminPassword)
	p = openPTYShell(t, c)
	p.waitOutput("<netdevd>", 10*time.Second)
	for _, l := range []struct{ line, prompt string }{
		{"system-view", "[netdevd]"},
		{"undo ip route-static 0.0.0.0 0 " + staticGwDev, "[netdevd]"},
		{"interface Vlan-interface1", "[netdevd-Vlan-interface1]"},
		{"undo ip address", "[netdevd-Vlan-interface1]"},
		{"return", "<netdevd>"},
	} {
		if out := p.typeLine(l.line, l.prompt, 5*time.Second); strings.Contains(out, "%") {
			t.Fatalf("%q:\n%s", l.line, out)
		}
	}
	waitFor(t, 20*time.Second, "address and route removed", func() bool { return s.kernelMatches(false) })
	d.stop()
	checkNoRace(t, d)
}

// checkNoRace: the race detector found nothing in a stopped daemon.
func checkNoRace(t *testing.T, d *device) {
	t.Helper()
	if strings.Contains(d.stderr.String(), "DATA RACE") {
		t.Errorf("the daemon raced:\n%s", d.stderr)
	}
}

// netmikoReadsNetwork: Netmiko's hp_comware driver, run in the device's
// namespace, reads the network displays and runs ping (its prompt
// detection must survive them).
func netmikoReadsNetwork(t *testing.T, s *staticSite, d *device) {
	require(t, exec.Command(systemPython, "-c", "import netmiko").Run() == nil, "python3-netmiko (scripts/install-test-deps.sh)")
	host, port, _ := net.SplitHostPort(d.sshAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", s.dev, systemPython, "testdata/netmiko_network.py",
		host, port, "admin", adminPassword, staticCtl).CombinedOutput()
	if err != nil {
		t.Fatalf("netmiko: %v\n%s", err, out)
	}
	section := func(cmd string) string {
		_, after, _ := strings.Cut(string(out), "BEGIN "+cmd+"\n")
		body, _, _ := strings.Cut(after, "END "+cmd+"\n")
		return body
	}
	for cmd, want := range map[string]*regexp.Regexp{
		"display interface brief":            regexp.MustCompile(`(?m)^Vlan1 +UP +UP +` + regexp.QuoteMeta(staticDevAddr) + `$`),
		"display interface Vlan-interface 1": regexp.MustCompile(`(?m)^Current state: UP$`),
		"display ip interface brief":         regexp.MustCompile(`(?m)^Vlan1 +up +up +` + regexp.QuoteMeta(staticDevAddr)),
		"display ip routing-table":           regexp.MustCompile(`(?m)^0\.0\.0\.0/0 +Static +60 `),
		"display arp":                        regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(staticGwDev) + ` `),
		"ping -c 3 " + staticCtl:             regexp.MustCompile(`3 packet\(s\) transmitted, 3 packet\(s\) received, 0\.0% packet loss`),
	} {
		if !want.MatchString(section(cmd)) {
			t.Errorf("netmiko %q: no %s in:\n%s", cmd, want, section(cmd))
		}
	}
}

// checkUnitCaps: the daemon has exactly the unit's capabilities
// (CAP_NET_BIND_SERVICE 10, CAP_NET_ADMIN 12, CAP_NET_RAW 13).
func checkUnitCaps(t *testing.T, d *device) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	const want = "0000000000003400"
	for _, field := range []string{"CapEff", "CapBnd"} {
		m := regexp.MustCompile(`(?m)^` + field + `:\s+([0-9a-f]+)$`).FindSubmatch(status)
		if m == nil || string(m[1]) != want {
			t.Fatalf("%s of the daemon: %q, want %s (the unit's capabilities)", field, m, want)
		}
	}
}

// checkNetworkDisplays: the displays show what the kernel has.
func checkNetworkDisplays(t *testing.T, d *device) {
	t.Helper()
	for line, want := range map[string]*regexp.Regexp{
		"display interface brief":    regexp.MustCompile(`(?m)^Vlan1 +UP +UP +` + regexp.QuoteMeta(staticDevAddr) + `$`),
		"display ip interface":       regexp.MustCompile(`(?m)^Internet Address is ` + regexp.QuoteMeta(staticDevAddr) + `/24 Primary$`),
		"display ip routing-table":   regexp.MustCompile(`(?m)^0\.0\.0\.0/0 +Static +60 +0 +` + regexp.QuoteMeta(staticGwDev) + ` +Vlan1$`),
		"display arp":                regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(staticGwDev) + ` +[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4} +1 +Vlan1 +\d+ +D$`),
		"display interface Vlan1":    regexp.MustCompile(`(?m)^Internet address: ` + regexp.QuoteMeta(staticDevAddr) + `/24 \(Primary\)$`),
		"display ip interface brief": regexp.MustCompile(`(?m)^Vlan1 +up +up +` + regexp.QuoteMeta(staticDevAddr) + ` +Vlan-inte\.\.\.$`),
	} {
		if out := d.mustExec(line); !want.MatchString(out) {
			t.Errorf("%s: no match for %s:\n%s", line, want, out)
		}
	}
}

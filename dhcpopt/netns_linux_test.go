//go:build linux

package dhcpopt

// Root end-to-end tests: two network namespaces joined by a veth pair,
// dnsmasq in "site", the client in "dev". Skipped without root, dnsmasq or
// ip; with CI=true those skips become failures.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/netdevd/netdevd/internal/logbuf"
)

func requireNetns(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, bin := range []string{"dnsmasq", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "netns end-to-end test needs " + strings.Join(missing, ", ") + " (run scripts/install-test-deps.sh as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

var netnsSeq atomic.Int32

// netEnv is site ns (dnsmasq, 192.0.2.1/24 on siteIf) — veth — dev ns (devIf).
type netEnv struct {
	t              testing.TB
	site, dev      string // namespace names
	siteIf, devIf  string
	siteNs, devNs  netns.NsHandle
	dir            string
	mu             sync.Mutex
	dnsmasq        *exec.Cmd
	dnsmasqExited  chan struct{}
	dnsmasqLog     *strings.Builder
	dnsmasqLogLock *sync.Mutex
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newNetEnv(t testing.TB) *netEnv {
	requireNetns(t)
	n := netnsSeq.Add(1)
	id := fmt.Sprintf("%d_%d", os.Getpid(), n)
	e := &netEnv{t: t, site: "ndd-site-" + id, dev: "ndd-dev-" + id,
		siteIf: "zs" + id, devIf: "zd" + id, dir: t.TempDir()}
	if len(e.siteIf) > 15 {
		e.siteIf, e.devIf = e.siteIf[:15], e.devIf[:15]
	}
	ipCmd(t, "netns", "add", e.site)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", e.site).Run() })
	ipCmd(t, "netns", "add", e.dev)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", e.dev).Run() })
	ipCmd(t, "-n", e.site, "link", "add", e.siteIf, "type", "veth", "peer", "name", e.devIf, "netns", e.dev)
	ipCmd(t, "-n", e.site, "addr", "add", "192.0.2.1/24", "dev", e.siteIf)
	ipCmd(t, "-n", e.site, "link", "set", "lo", "up")
	ipCmd(t, "-n", e.site, "link", "set", e.siteIf, "up")
	ipCmd(t, "-n", e.dev, "link", "set", "lo", "up")
	ipCmd(t, "-n", e.dev, "link", "set", e.devIf, "up")
	var err error
	if e.siteNs, err = netns.GetFromName(e.site); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.siteNs.Close() })
	if e.devNs, err = netns.GetFromName(e.dev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.devNs.Close() })
	t.Cleanup(e.stopDnsmasq) // runs before the namespaces are deleted
	return e
}

// startDnsmasq (re)starts dnsmasq in the site ns with option253 as the
// literal right-hand side of dhcp-option=253, (quotes included when wanted).
// The lease file survives restarts.
func (e *netEnv) startDnsmasq(option253 string, ping bool) {
	e.t.Helper()
	e.stopDnsmasq()
	conf := fmt.Sprintf(`interface=%s
bind-interfaces
except-interface=lo
dhcp-range=192.0.2.10,192.0.2.250,255.255.255.0,1h
dhcp-option=option:router,192.0.2.1
dhcp-option=option:dns-server,192.0.2.1
dhcp-option=253,%s
dhcp-authoritative
dhcp-leasefile=%s
address=/cloud.example.test/192.0.2.100
address=/cloud2.example.test/192.0.2.101
no-resolv
no-hosts
log-dhcp
log-facility=-
pid-file=
user=root
`, e.siteIf, option253, filepath.Join(e.dir, "leases"))
	if !ping {
		conf += "no-ping\n"
	}
	e.startDnsmasqConf(conf)
}

// startDnsmasqConf (re)starts dnsmasq in the site ns with conf.
func (e *netEnv) startDnsmasqConf(conf string) {
	e.t.Helper()
	e.stopDnsmasq()
	path := filepath.Join(e.dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", e.site, "dnsmasq", "--no-daemon", "--conf-file="+path)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	ready := make(chan struct{})
	exited := make(chan struct{})
	logb, logmu := &strings.Builder{}, &sync.Mutex{}
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			logmu.Lock()
			logb.WriteString(sc.Text() + "\n")
			logmu.Unlock()
			if strings.Contains(sc.Text(), "DHCP, IP range") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(exited)
	}()
	e.mu.Lock()
	e.dnsmasq, e.dnsmasqExited, e.dnsmasqLog, e.dnsmasqLogLock = cmd, exited, logb, logmu
	e.mu.Unlock()
	select {
	case <-ready:
	case <-exited:
		e.t.Fatalf("dnsmasq exited:\n%s", e.log())
	case <-time.After(10 * time.Second):
		e.t.Fatalf("dnsmasq not ready:\n%s", e.log())
	}
}

func (e *netEnv) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dnsmasqLog == nil {
		return ""
	}
	e.dnsmasqLogLock.Lock()
	defer e.dnsmasqLogLock.Unlock()
	return e.dnsmasqLog.String()
}

func (e *netEnv) stopDnsmasq() {
	e.mu.Lock()
	cmd, exited := e.dnsmasq, e.dnsmasqExited
	e.dnsmasq = nil
	e.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// inDev runs f on a thread in the dev namespace; the thread is thrown away
// afterwards (never unlocked).
func (e *netEnv) inDev(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := netns.Set(e.devNs); err != nil {
			e.t.Error(err)
			return
		}
		f()
	}()
	<-done
}

func (e *netEnv) devAddrs() []string {
	h, err := netlink.NewHandleAt(e.devNs)
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName(e.devIf)
	if err != nil {
		e.t.Fatal(err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
		if a.ValidLft <= 0 || a.ValidLft > 3600 {
			e.t.Errorf("address %s valid lifetime %d, want the lease (≤ 3600 s)", a.IPNet, a.ValidLft)
		}
	}
	return out
}

func (e *netEnv) devDefaultGw() string {
	h, err := netlink.NewHandleAt(e.devNs)
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw != nil {
			return fmt.Sprintf("%s metric %d", r.Gw, r.Priority)
		}
	}
	return ""
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestNetnsDnsmasqEndToEnd(t *testing.T) {
	e := newNetEnv(t)
	e.startDnsmasq(`"cloud.example.test"`, false)

	var mu sync.Mutex
	var leases []LeaseInfo
	logs := logbuf.New(100, nil, nil)
	core, observed := observer.New(zap.DebugLevel)
	c := New(Options{
		Interface: e.devIf, ApplyToInterface: true, Log: logs, Zap: zap.New(core),
		Timeout: 500 * time.Millisecond,
		OnLease: func(l LeaseInfo) {
			mu.Lock()
			leases = append(leases, l)
			mu.Unlock()
		},
	})
	lastLease := func() LeaseInfo {
		mu.Lock()
		defer mu.Unlock()
		if len(leases) == 0 {
			return LeaseInfo{}
		}
		return leases[len(leases)-1]
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		runtime.LockOSThread()
		if err := netns.Set(e.devNs); err != nil {
			t.Error(err)
			return
		}
		if err := c.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	c.SetEnabled(true)
	waitFor(t, "BOUND", 15*time.Second, func() bool { return c.Status().State == StateBound })
	st := c.Status()
	if st.CloudDomain != "cloud.example.test" {
		t.Fatalf("cloud domain %q\n%s", st.CloudDomain, e.log())
	}
	if !netip.MustParsePrefix("192.0.2.0/24").Contains(st.Addr.Addr()) || st.Addr.Bits() != 24 ||
		st.Router != netip.MustParseAddr("192.0.2.1") || st.Server != netip.MustParseAddr("192.0.2.1") ||
		len(st.DNSServers) != 1 || st.Lease != time.Hour {
		t.Fatalf("status %+v", st)
	}
	if got := e.devAddrs(); len(got) != 1 || got[0] != st.Addr.String() {
		t.Fatalf("addresses on %s: %v, want %s", e.devIf, got, st.Addr)
	}
	if gw := e.devDefaultGw(); gw != "192.0.2.1 metric 1000" {
		t.Fatalf("default route %q", gw)
	}
	if l := lastLease(); l.Event != EventBound || l.CloudDomain != "cloud.example.test" {
		t.Fatalf("OnLease %+v", l)
	}
	// The learned DNS server answers for the learned domain.
	e.inDev(func() {
		m := new(dns.Msg)
		m.SetQuestion("cloud.example.test.", dns.TypeA)
		r, _, err := new(dns.Client).Exchange(m, net.JoinHostPort(st.DNSServers[0].String(), "53"))
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.100" {
			t.Errorf("DNS: %v %v", r, err)
		}
	})

	// A new option 253 value: renew (unicast from the leased address) brings it.
	e.startDnsmasq(`"cloud2.example.test"`, false)
	c.Renew()
	waitFor(t, "new domain", 15*time.Second, func() bool { return c.Status().CloudDomain == "cloud2.example.test" })
	if l := lastLease(); l.Event != EventRenewed || l.CloudDomain != "cloud2.example.test" || !l.CloudDomainChanged {
		t.Fatalf("OnLease %+v", l)
	}
	if !strings.Contains(e.log(), "DHCPREQUEST("+e.siteIf+") "+st.Addr.Addr().String()) {
		t.Fatalf("no renewal seen by dnsmasq:\n%s", e.log())
	}
	if c.Status().Addr != st.Addr {
		t.Fatalf("address changed on renew: %v", c.Status().Addr)
	}
	if n := observed.FilterMessageSnippet("unicast socket unavailable").Len(); n != 0 {
		t.Fatalf("renewal fell back to the raw socket: %v", observed.FilterMessageSnippet("unavailable").All())
	}

	// A malformed option 253 (unquoted dotted number: 4 binary bytes).
	e.startDnsmasq(`10.0.0.1`, false)
	c.Renew()
	waitFor(t, "rejection", 15*time.Second, func() bool { return c.Status().Option253Rejected == 1 })
	st = c.Status()
	if st.CloudDomain != "cloud2.example.test" || !strings.Contains(st.Option253LastReject, "10.0.0.1") {
		t.Fatalf("status %+v", st)
	}
	var found bool
	for _, en := range logs.Snapshot().Entries {
		if en.Mnemonic == "DHCP_OPT253_INVALID" && strings.Contains(en.Text, "Option 253 from 192.0.2.1 rejected: binary data") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no DHCP_OPT253_INVALID log: %+v", logs.Snapshot().Entries)
	}
	if st.State != StateBound {
		t.Fatalf("state %s", st.State)
	}

	// Hex form as well: dhcp-option=253,0a:00:00:01.
	e.startDnsmasq(`0a:00:00:01`, false)
	c.Renew()
	waitFor(t, "second rejection", 15*time.Second, func() bool { return c.Status().Option253Rejected == 2 })
	if c.Status().CloudDomain != "cloud2.example.test" {
		t.Fatal("domain replaced by an invalid value")
	}

	// undo ip address dhcp-alloc: DHCPRELEASE, address and route removed.
	c.SetEnabled(false)
	// The server sees the release and the address goes before the client
	// reports it: wait for all three.
	waitFor(t, "release", 10*time.Second, func() bool {
		return len(e.devAddrs()) == 0 && strings.Contains(e.log(), "DHCPRELEASE") && lastLease().Event == EventReleased
	})
	if gw := e.devDefaultGw(); gw != "" {
		t.Fatalf("default route left: %s", gw)
	}
	if l := lastLease(); l.Event != EventReleased || l.Bound || l.CloudDomain != "cloud2.example.test" {
		t.Fatalf("OnLease %+v", l)
	}
	if n := observed.FilterMessageSnippet("unavailable").Len(); n != 0 {
		t.Fatalf("fell back to the raw socket: %v", observed.FilterMessageSnippet("unavailable").All())
	}
}

// TestNetnsLinkFlap: link down/up → INIT-REBOOT confirms the lease.
func TestNetnsLinkFlap(t *testing.T) {
	e := newNetEnv(t)
	e.startDnsmasq(`"cloud.example.test"`, false)
	c := New(Options{Interface: e.devIf, ApplyToInterface: true, Timeout: 500 * time.Millisecond, Zap: zaptest.NewLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		runtime.LockOSThread()
		if err := netns.Set(e.devNs); err != nil {
			t.Error(err)
			return
		}
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	c.SetEnabled(true)
	waitFor(t, "BOUND", 15*time.Second, func() bool { return c.Status().State == StateBound })
	first := c.Status()
	ipCmd(t, "-n", e.site, "link", "set", e.siteIf, "down")
	// The kernel reports carrier changes at most once a second (linkwatch):
	// a shorter flap is invisible.
	time.Sleep(1500 * time.Millisecond)
	ipCmd(t, "-n", e.site, "link", "set", e.siteIf, "up")
	waitFor(t, "INIT-REBOOT request", 10*time.Second, func() bool {
		return strings.Count(e.log(), "DHCPREQUEST("+e.siteIf+")") >= 2
	})
	waitFor(t, "BOUND again", 10*time.Second, func() bool {
		st := c.Status()
		return st.State == StateBound && st.BoundAt.After(first.BoundAt)
	})
	if c.Status().Addr != first.Addr {
		t.Fatalf("address changed: %v → %v", first.Addr, c.Status().Addr)
	}
}

// TestNetnsDnsmasqShippedConfig serves configs/dnsmasq-zero-touch.conf (the
// interface, lease file and logging adapted to the test) and checks the
// client learns its option 253.
func TestNetnsDnsmasqShippedConfig(t *testing.T) {
	e := newNetEnv(t)
	raw, err := os.ReadFile("../configs/dnsmasq-zero-touch.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(raw), "interface=eth1\n", "interface="+e.siteIf+"\n", 1)
	if conf == string(raw) {
		t.Fatal("shipped config has no interface=eth1 line")
	}
	conf += "dhcp-leasefile=" + filepath.Join(e.dir, "leases") + "\nlog-facility=-\npid-file=\nuser=root\nport=0\n"
	e.startDnsmasqConf(conf)
	c := New(Options{Interface: e.devIf, ApplyToInterface: true, Timeout: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		runtime.LockOSThread()
		if err := netns.Set(e.devNs); err != nil {
			t.Error(err)
			return
		}
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	c.SetEnabled(true)
	waitFor(t, "BOUND", 15*time.Second, func() bool { return c.Status().State == StateBound })
	if st := c.Status(); st.CloudDomain != "oasis.example.com" || st.Lease != 12*time.Hour {
		t.Fatalf("status %+v\n%s", st, e.log())
	}
}

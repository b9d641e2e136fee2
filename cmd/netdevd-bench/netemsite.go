package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// The site of the netem measurement is the zero-touch site of
// tests/zerotouch_test.go: namespace "site" runs dnsmasq (DHCP with option
// 253, DNS) and cloudsim on siteAddr; namespace "dev" runs one
// factory-configured `netdevd run` per run on its end of the veth pair.
// No traffic leaves the two namespaces.
const (
	siteAddr = "10.254.0.1"
	sitePort = 19443 // the port a device uses for a DHCP-learned domain
	// with relays, dnsmasq answers DNS on this port and cloudsim listens on
	// the site's loopback; the relays take their places on siteAddr
	siteDNSPort      = 5353
	siteCloudsimAddr = "127.0.0.1:19444"
	bootLimit        = 30 * time.Second
	// carrierSettle: the kernel reports carrier changes at most once a
	// second; a device booted sooner would see its link come up again.
	carrierSettle = 1100 * time.Millisecond
)

var siteSeq atomic.Int32

type netemSite struct {
	c             *benchConfig
	ipBin         string
	delay         time.Duration // netem delay on each veth end; 0 = no qdisc
	relayed       bool          // DNS and the controller behind delay relays (rtt.go)
	relayDelay    time.Duration // their one-way delay
	rl            relays
	dir, tlsDir   string
	site, dev     string // namespace names
	siteIf, devIf string
	serial        string
	netns         []string // made so far: deleted by close
	procs         []*proc  // dnsmasq, cloudsim: killed by close
	dnsmasq       *proc
}

// measureLeaseToEstablished builds a site with the given delay, boots
// runs devices one after the other and returns each one's time from the
// DHCP lease to Established. The site is torn down on every path.
func measureLeaseToEstablished(ctx context.Context, c *benchConfig, delay time.Duration, runs int) (ds []time.Duration, err error) {
	return measureLease(ctx, c, func(s *netemSite) { s.delay = delay }, runs)
}

// measureLeaseRelayed is measureLeaseToEstablished without netem: the
// site's DNS server and controller sit behind delay relays (one-way delay
// d) in the site's namespace, on the addresses the device uses.
func measureLeaseRelayed(ctx context.Context, c *benchConfig, d time.Duration, runs int) ([]time.Duration, error) {
	return measureLease(ctx, c, func(s *netemSite) { s.relayed, s.relayDelay = true, d }, runs)
}

func measureLease(ctx context.Context, c *benchConfig, opt func(*netemSite), runs int) (ds []time.Duration, err error) {
	s, err := newNetemSite(ctx, c, opt)
	if err != nil {
		return nil, err
	}
	defer func() {
		if e := s.close(); e != nil && err == nil {
			ds, err = nil, e
		}
	}()
	for i := 0; i < runs; i++ {
		d, err := s.boot(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func newNetemSite(ctx context.Context, c *benchConfig, opt func(*netemSite)) (*netemSite, error) {
	for _, b := range []string{c.netdevdBin, c.cloudsimBin} {
		if err := checkBinary(b); err != nil {
			return nil, err
		}
	}
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		return nil, err
	}
	dnsmasqBin, err := exec.LookPath("dnsmasq")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "netdevd-bench-netem-")
	if err != nil {
		return nil, err
	}
	pid, n := os.Getpid(), siteSeq.Add(1)
	s := &netemSite{c: c, ipBin: ipBin, dir: dir, tlsDir: filepath.Join(dir, "tls"),
		site: fmt.Sprintf("ndb-netem-site-%d-%d", pid, n), dev: fmt.Sprintf("ndb-netem-dev-%d-%d", pid, n),
		// interface names: at most 15 bytes
		siteIf: fmt.Sprintf("nbs%d%d", pid%100000, n%1000), devIf: fmt.Sprintf("nbd%d%d", pid%100000, n%1000),
		serial: fmt.Sprintf("210235NB%012d", pid*1000+int(n%1000))}
	opt(s)
	if err := s.setUp(ctx, dnsmasqBin); err != nil {
		return nil, errors.Join(err, s.close())
	}
	return s, nil
}

func (s *netemSite) setUp(ctx context.Context, dnsmasqBin string) error {
	if err := s.makeLink(); err != nil {
		return err
	}
	if err := s.addDelay(); err != nil {
		return err
	}
	if err := s.startDnsmasq(dnsmasqBin); err != nil {
		return err
	}
	if err := s.startCloudsim(ctx); err != nil {
		return err
	}
	return s.startRelays()
}

// startRelays puts the delay relays on the addresses the device uses for
// DNS and the controller, in the site's namespace.
func (s *netemSite) startRelays() error {
	if !s.relayed {
		return nil
	}
	if _, err := s.rl.udp(s.site, net.JoinHostPort(siteAddr, "53"),
		net.JoinHostPort(siteAddr, strconv.Itoa(siteDNSPort)), s.relayDelay); err != nil {
		return err
	}
	_, err := s.rl.tcp(s.site, net.JoinHostPort(siteAddr, strconv.Itoa(sitePort)), siteCloudsimAddr, s.relayDelay)
	return err
}

// makeLink: both namespaces, the veth pair, the site's address. The dev end
// is brought up by each run (resetLink).
func (s *netemSite) makeLink() error {
	for _, ns := range []string{s.site, s.dev} {
		if err := tool("ip", "netns", "add", ns); err != nil {
			return err
		}
		s.netns = append(s.netns, ns)
	}
	for _, a := range [][]string{
		{"-n", s.site, "link", "add", s.siteIf, "type", "veth", "peer", "name", s.devIf, "netns", s.dev},
		{"-n", s.site, "addr", "add", siteAddr + "/24", "dev", s.siteIf},
		{"-n", s.site, "link", "set", "lo", "up"},
		{"-n", s.site, "link", "set", s.siteIf, "up"},
		{"-n", s.dev, "link", "set", "lo", "up"},
	} {
		if err := tool("ip", a...); err != nil {
			return err
		}
	}
	return nil
}

// addDelay puts netem on both veth ends, so a round trip is 2·delay. With
// delay 0 (the tests: this kernel may lack netem) there is no qdisc.
func (s *netemSite) addDelay() error {
	if s.delay == 0 {
		return nil
	}
	d := strconv.FormatInt(s.delay.Microseconds(), 10) + "us"
	for _, end := range [][2]string{{s.site, s.siteIf}, {s.dev, s.devIf}} {
		if err := tool("tc", "-n", end[0], "qdisc", "add", "dev", end[1], "root", "netem", "delay", d); err != nil {
			return err
		}
	}
	return nil
}

// checkDelay fails a run whose link lost its netem qdisc: that run would
// measure a link without the delay.
func (s *netemSite) checkDelay() error {
	if s.delay == 0 {
		return nil
	}
	for _, end := range [][2]string{{s.site, s.siteIf}, {s.dev, s.devIf}} {
		out, err := toolOutput("tc", "-n", end[0], "qdisc", "show", "dev", end[1])
		if err != nil {
			return err
		}
		if !strings.Contains(out, "netem") {
			return fmt.Errorf("no netem qdisc on %s in %s:\n%s", end[1], end[0], out)
		}
	}
	return nil
}

// startDnsmasq: DHCP in 10.254.0.0/24 with option 253 (quoted, or a
// dotted-number value goes out as binary), DNS answering the controller's
// name, no ping check (it delays a first lease by 3 s), its own files.
func (s *netemSite) startDnsmasq(bin string) error {
	dnsPort := 53
	if s.relayed {
		dnsPort = siteDNSPort
	}
	conf := fmt.Sprintf(`interface=%s
port=%d
bind-interfaces
except-interface=lo
dhcp-range=10.254.0.100,10.254.0.200,255.255.255.0,1h
dhcp-option=option:dns-server,%s
dhcp-option=253,"%s"
dhcp-authoritative
dhcp-leasefile=%s
address=/%s/%s
no-resolv
no-hosts
no-ping
log-dhcp
log-facility=-
pid-file=
user=root
`, s.siteIf, dnsPort, siteAddr, benchDomain, filepath.Join(s.dir, "leases"), benchDomain, siteAddr)
	path := filepath.Join(s.dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	p, err := start("dnsmasq", s.ipBin, false, "netns", "exec", s.site, bin, "--no-daemon", "--conf-file="+path)
	if err != nil {
		return err
	}
	s.procs, s.dnsmasq = append(s.procs, p), p
	return waitOutput(p, "DHCP, IP range", 10*time.Second)
}

// startCloudsim: the controller, serving the device's serial under the
// name option 253 gives; its CA (tls/ca.pem) is the device's --ca-file.
func (s *netemSite) startCloudsim(ctx context.Context) error {
	listen := net.JoinHostPort(siteAddr, strconv.Itoa(sitePort))
	if s.relayed {
		listen = siteCloudsimAddr
	}
	p, err := start("cloudsim", s.ipBin, true, "netns", "exec", s.site, s.c.cloudsimBin, "run",
		"--listen", listen, "--admin-listen", "none",
		"--tls-dir", s.tlsDir, "--serial", s.serial, "--domain", benchDomain, "--log-level", "warn")
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	// later stdout lines are dropped by the reader when nobody takes them
	_, err = p.waitLine(ctx, "cloudsim listening", 20*time.Second)
	return err
}

// resetLink makes the dev end a freshly plugged port: new MAC (a new
// client to dnsmasq), no address, down and up (which also empties the
// neighbour cache, so every run resolves the server's MAC alike).
func (s *netemSite) resetLink() error {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&^1 | 2 // unicast, locally administered
	for _, a := range [][]string{
		{"-n", s.dev, "link", "set", s.devIf, "down"},
		{"-n", s.dev, "addr", "flush", "dev", s.devIf},
		{"-n", s.dev, "link", "set", s.devIf, "address", mac.String()},
		{"-n", s.dev, "link", "set", s.devIf, "up"},
	} {
		if err := tool("ip", a...); err != nil {
			return err
		}
	}
	return s.checkDelay()
}

// boot is one run: a factory-configured device (fresh data directory, so
// DHCP on Vlan-interface1 and no cloud domain) until Established; then it
// is stopped, and must exit cleanly.
func (s *netemSite) boot(ctx context.Context, i int) (time.Duration, error) {
	if err := s.resetLink(); err != nil {
		return 0, err
	}
	if err := sleepCtx(ctx, carrierSettle); err != nil {
		return 0, err
	}
	dataDir := filepath.Join(s.dir, "flash-"+strconv.Itoa(i))
	p, err := start("netdevd run (netns)", s.ipBin, false, "netns", "exec", s.dev, s.c.netdevdBin, "run",
		"--data-dir", dataDir, "--ssh-listen", "127.0.0.1:22", "--log-level", "error",
		"--vlan-interface1", s.devIf, "--serial", s.serial,
		"--ca-file", filepath.Join(s.tlsDir, controller.CAFile))
	if err != nil {
		return 0, err
	}
	defer p.kill()
	d, err := s.leaseToEstablished(ctx, p, dataDir)
	if err != nil {
		return 0, err
	}
	if err := p.stop(10 * time.Second); err != nil {
		return 0, err
	}
	return d, s.alive()
}

// leaseToEstablished polls the device's log buffer until it holds
// DHCP_BOUND and CLOUD_ESTABLISHED and returns the time between the two
// entries' own timestamps. The buffer is read through the local API: the
// entries `display logbuffer` prints, at full clock resolution (the
// printed form has milliseconds).
func (s *netemSite) leaseToEstablished(ctx context.Context, p *proc, dataDir string) (time.Duration, error) {
	cl := localapi.NewClient(daemon.SocketPath(dataDir), "")
	defer cl.Close()
	deadline := time.Now().Add(bootLimit)
	var snap logbuf.Snapshot
	for time.Now().Before(deadline) {
		if err := errors.Join(p.alive(), s.alive()); err != nil {
			return 0, err
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		sn, err := cl.LogBuffer(qctx) // fails until the daemon serves its socket
		cancel()
		if err == nil {
			snap = sn
			bound, ok1 := firstEntry(snap, "DHCP_BOUND")
			up, ok2 := firstEntry(snap, "CLOUD_ESTABLISHED")
			if ok1 && ok2 {
				if d := up.Sub(bound); d > 0 {
					return d, nil
				}
				return 0, fmt.Errorf("CLOUD_ESTABLISHED not after DHCP_BOUND:\n%s", formatLog(snap))
			}
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("no DHCP_BOUND and CLOUD_ESTABLISHED within %v; log buffer:\n%s\nnetdevd:\n%s\ndnsmasq:\n%s",
		bootLimit, formatLog(snap), p.out, s.dnsmasq.out)
}

// alive: the site's own processes still run.
func (s *netemSite) alive() error {
	for _, p := range s.procs {
		if err := p.alive(); err != nil {
			return err
		}
	}
	return nil
}

// close kills and reaps the site's processes, then deletes the namespaces
// (which destroys the veth pair) and the files. Safe on a half-built site.
func (s *netemSite) close() error {
	relayErr := s.rl.Close()
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].kill()
	}
	errs := []error{relayErr}
	for _, ns := range s.netns {
		errs = append(errs, tool("ip", "netns", "del", ns))
	}
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

func firstEntry(snap logbuf.Snapshot, mnemonic string) (time.Time, bool) {
	for _, e := range snap.Entries {
		if e.Mnemonic == mnemonic {
			return e.Time, true
		}
	}
	return time.Time{}, false
}

func formatLog(snap logbuf.Snapshot) string {
	var b strings.Builder
	for _, e := range snap.Entries {
		b.WriteString(logbuf.Format(e, "device") + "\n")
	}
	return b.String()
}

// tool runs a short command (ip, tc); a failure is an error with its output.
func tool(name string, args ...string) error {
	_, err := toolOutput(name, args...)
	return err
}

func toolOutput(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// waitOutput waits until p's output holds want.
func waitOutput(p *proc, want string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for !strings.Contains(p.out.String(), want) {
		if err := p.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q within %v; output:\n%s", p.name, want, limit, p.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

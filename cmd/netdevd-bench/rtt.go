package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// Round trips under delay, without netem (issue 14): the paths to the
// controller, its DNS server and the SSH servers go through user-space
// delay relays (internal/delayrelay) that hold every chunk or datagram
// for rttDelay each way. Figures in ms and in round trips of 2·rttDelay,
// each beside its floor: the round trips the protocol itself needs.
const (
	rttDelay = 25 * time.Millisecond
	// rttMaxRuns caps --runs: each run waits out a dozen round trips
	rttMaxRuns = 11
	// rttTTL is the TTL of the bench DNS server's answers, a common one
	// for a cloud service's name.
	rttTTL = 60
	// relayHost is the loopback address the relays listen on: the device
	// sends DNS to port 53 of its `dns server`, so that port must be free
	// on this address.
	relayHost = "127.77.0.1"
	// rttZone: every controller name of these rows is under it (the
	// controllers' certificate holds *.rttZone).
	rttZone = "rtt.bench.test"
)

var relayAddr = netip.MustParseAddr(relayHost)

// floor is the least number of round trips a row can take, and why.
type floor struct {
	rtt float64
	why string
}

var (
	floorFirst = floor{6, "DNS 1 + TCP 1 + TLS 1.3 1 + auth 1 + register 1 + WebSocket upgrade 1 (auth, register and the upgrade on one connection)"}
	floorReset = floor{5, "TCP 1 + TLS 1.3 resumed 1 + auth 1 + register 1 + upgrade 1: the name's answer is fresh (TTL 60 s), and Go's TLS client has no 0-RTT"}
	floorFail  = floor{6.5, "the RST's way back ½ + primary again: TCP refused 1 (its answer fresh) + backup: TCP 1 + TLS 1 + auth 1 + register 1 + upgrade 1; the backup's name, never asked before, looked up while the primary is retried"}
)

// rttRows: the run times in ms, and in round trips beside the floor
// (target: at most one round trip above it).
func rttRows(name string, f floor, ds []time.Duration, note string) []Row {
	rtt := 2 * rttDelay
	var msv, rtts []float64
	for _, d := range ds {
		msv = append(msv, ms(d))
		rtts = append(rtts, float64(d)/float64(rtt))
	}
	inRTT := stat(name+", in round trips", "RTT", rtts)
	return []Row{
		stat(fmt.Sprintf("%s (delay %d ms each way)", name, rttDelay.Milliseconds()), "ms", msv).note(note),
		inRTT.target(fmt.Sprintf("floor %g + ≤ 1", f.rtt), f.rtt+1, false).
			note(fmt.Sprintf("%+.2f RTT over the floor of %g: %s", inRTT.Median-f.rtt, f.rtt, f.why)),
	}
}

// benchRelayOverhead: the relays at delay 0 against the direct path, side
// by side: what they add on their own.
func benchRelayOverhead(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-relay-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctrl, err := startEmbedded(dir, []string{benchDomain, "127.0.0.1"}, "BENCHRLY000001")
	if err != nil {
		return nil, err
	}
	defer ctrl.stop()
	ns, err := startBenchDNS(rttTTL)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	ns.set(benchDomain, relayAddr)
	var rl relays
	defer rl.Close()
	direct := "127.0.0.1:" + strconv.Itoa(ctrl.port)
	tr, err := rl.tcp("", relayHost+":0", direct, 0)
	if err != nil {
		return nil, err
	}
	ur, err := rl.udp("", relayHost+":0", ns.addr, 0)
	if err != nil {
		return nil, err
	}
	runs := 3 * c.runs // sub-millisecond differences: more samples
	a, b, err := interleave(runs, func() (float64, error) {
		return tlsPlusRequest(ctx, ctrl.pool, tr.Addr().String(), "BENCHRLY000001")
	}, func() (float64, error) {
		return tlsPlusRequest(ctx, ctrl.pool, direct, "BENCHRLY000001")
	})
	if err != nil {
		return nil, err
	}
	ua, ub, err := interleave(runs, func() (float64, error) {
		return dnsQuery(ctx, ur.Addr().String())
	}, func() (float64, error) {
		return dnsQuery(ctx, ns.addr)
	})
	if err != nil {
		return nil, err
	}
	rows := []Row{
		stat("delay relay at delay 0: TLS handshake + 1 HTTPS request", "ms", a).withBaseline("direct", b),
		stat("delay relay at delay 0: 1 DNS query (UDP)", "ms", ua).withBaseline("direct", ub),
	}
	for i, what := range []string{"a connect (and the relay's own dial) and 2 exchanges (TLS 1.3, the request) through the TCP relay", "1 round trip through the UDP relay"} {
		r := &rows[i]
		*r = r.target(fmt.Sprintf("≤ direct + 1 ms (%.2f)", r.BaselineMedian+1), r.BaselineMedian+1, false).
			note(fmt.Sprintf("the relay adds %.3f ms on the median; %s", r.Median-r.BaselineMedian, what))
	}
	return rows, nil
}

// dnsQuery is one A query for benchDomain to addr; its time in ms.
func dnsQuery(ctx context.Context, addr string) (float64, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(benchDomain), dns.TypeA)
	cl := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	t0 := time.Now()
	in, _, err := cl.ExchangeContext(ctx, m, addr)
	took := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if len(in.Answer) != 1 {
		return 0, fmt.Errorf("DNS answer: %v", in)
	}
	return ms(took), nil
}

// handshakes counts the controller's TLS handshakes, full and resumed.
type handshakes struct{ full, resumed atomic.Int64 }

func (h *handshakes) count(tc *tls.Config) {
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if cs.DidResume {
			h.resumed.Add(1)
		} else {
			h.full.Add(1)
		}
		return nil
	}
}

// rttSite is an embedded controller and its DNS server, both behind
// delay relays on relayHost (DNS on port 53, where a device asks).
type rttSite struct {
	ctrl     *embedded
	dns      *benchDNS
	hs       handshakes
	rl       relays
	ctrlPort int // the relay's
}

func newRTTSite(dir string, serial string) (*rttSite, error) {
	s := &rttSite{}
	var err error
	s.ctrl, err = startEmbeddedTLS(filepath.Join(dir, "tls"), []string{"*." + rttZone, "127.0.0.1"}, s.hs.count, serial)
	if err != nil {
		return nil, err
	}
	if s.dns, err = startBenchDNS(rttTTL); err != nil {
		s.close()
		return nil, err
	}
	tr, err := s.rl.tcp("", relayHost+":0", "127.0.0.1:"+strconv.Itoa(s.ctrl.port), rttDelay)
	if err != nil {
		s.close()
		return nil, err
	}
	s.ctrlPort = tr.Addr().(*net.TCPAddr).Port
	if _, err := s.rl.udp("", relayHost+":53", s.dns.addr, rttDelay); err != nil {
		s.close()
		return nil, fmt.Errorf("DNS relay on %s:53 (the device asks port 53): %w", relayHost, err)
	}
	return s, nil
}

func (s *rttSite) close() {
	s.rl.Close()
	if s.dns != nil {
		s.dns.Close()
	}
	if s.ctrl != nil {
		s.ctrl.stop()
	}
}

// benchRTTCloud: configuration typed → Established, then `reset
// cloud-management tunnel` → Established, on the in-process daemon; then
// the failover rows on a cloudmgmt.Client.
func benchRTTCloud(ctx context.Context, c *benchConfig) ([]Row, error) {
	rows, err := rttConfigAndReset(ctx, c)
	if err != nil {
		return nil, err
	}
	fo, err := rttFailover(ctx, c)
	if err != nil {
		return nil, err
	}
	return append(rows, fo...), nil
}

// rttConfigAndReset: each run types a name never used before (no answer
// cached anywhere) and waits for Established and both sub-connections;
// then types `reset cloud-management tunnel` (the name's answer is fresh,
// the TLS session resumable) and waits for Established again; then removes
// the domain and waits for Idle.
func rttConfigAndReset(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-rtt-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := daemon.New(daemon.Options{DataDir: filepath.Join(dir, "flash"), SSHListen: "127.0.0.1:0",
		CAFile: filepath.Join(dir, "tls", "ca.pem"), Serial: "BENCHRTT000001"})
	if err != nil {
		return nil, err
	}
	site, err := newRTTSite(dir, d.Serial())
	if err != nil {
		return nil, err
	}
	defer site.close()
	dctx, cancel := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(dctx) }()
	defer func() { cancel(); <-runErr }()
	logs, unsub := d.Log().Subscribe(4096)
	defer unsub()
	if _, err := waitLog(ctx, logs, 10*time.Second, "SYSTEM_READY", ""); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if out, ok := d.RunLines(ctx, "system-view", "dns server "+relayHost,
		fmt.Sprintf("cloud-management server port %d", site.ctrlPort)); !ok {
		return nil, fmt.Errorf("configuring the device:\n%s", out)
	}
	state := func() string { return cli.CloudManagementState(d.CloudStatus(), time.UTC) }
	established := func(t0 time.Time) (time.Duration, error) {
		e, err := waitLog(ctx, logs, 20*time.Second, "CLOUD_ESTABLISHED", "")
		if err != nil {
			return 0, fmt.Errorf("%w; state:\n%s", err, state())
		}
		return e.Time.Sub(t0), nil
	}
	var cfgD, resetD []time.Duration
	var cfgQ, resetQ []float64
	for i := 0; i < min(c.runs, rttMaxRuns); i++ {
		name := fmt.Sprintf("cfg%d.%s", i+1, rttZone)
		site.dns.set(name, relayAddr)
		drain(logs)
		q0 := site.dns.queries.Load()
		di, _ := site.ctrl.device(d.Serial())
		reports0 := di.Reports
		t0 := time.Now()
		if out, ok := d.RunLines(ctx, "system-view", "cloud-management server domain "+name); !ok {
			return nil, fmt.Errorf("typing the domain:\n%s", out)
		}
		took, err := established(t0)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		cfgD, cfgQ = append(cfgD, took), append(cfgQ, float64(site.dns.queries.Load()-q0))
		// steady: a report arrived on each sub-connection, so the device
		// has both (it reports right after each upgrade's answer)
		if err := waitCond(ctx, 20*time.Second, "a report on both sub-connections", func() bool {
			di, _ := site.ctrl.device(d.Serial())
			return di.Connected && len(di.Subconns) == 2 &&
				di.Reports["telemetry"].Received > reports0["telemetry"].Received &&
				di.Reports["log"].Received > reports0["log"].Received
		}); err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		drain(logs)
		full0, res0, q1 := site.hs.full.Load(), site.hs.resumed.Load(), site.dns.queries.Load()
		t1 := time.Now()
		if out, ok := d.RunLines(ctx, "reset cloud-management tunnel"); !ok {
			return nil, fmt.Errorf("reset:\n%s", out)
		}
		if took, err = established(t1); err != nil {
			return nil, fmt.Errorf("run %d, reset: %w", i+1, err)
		}

		if site.hs.full.Load() != full0 || site.hs.resumed.Load() == res0 {
			return nil, fmt.Errorf("run %d: the reset's connection did not resume TLS (%d full, %d resumed handshakes)",
				i+1, site.hs.full.Load()-full0, site.hs.resumed.Load()-res0)
		}
		resetD, resetQ = append(resetD, took), append(resetQ, float64(site.dns.queries.Load()-q1))
		if out, ok := d.RunLines(ctx, "system-view", "undo cloud-management server domain"); !ok {
			return nil, fmt.Errorf("undo:\n%s", out)
		}
		if err := waitCond(ctx, 20*time.Second, "device Idle and controller disconnected", func() bool {
			di, _ := site.ctrl.device(d.Serial())
			return d.CloudStatus().ConnState == "Idle" && !di.Connected && len(di.Subconns) == 0
		}); err != nil {
			return nil, err
		}
	}
	rows := rttRows("config typed → Established", floorFirst, cfgD,
		fmt.Sprintf("in-process daemon; `dns server` and the controller behind delay relays; a new name each run; DNS A queries per run: %s", spread(cfgQ)))
	return append(rows, rttRows("`reset cloud-management tunnel` → Established (TLS resumed)", floorReset, resetD,
		fmt.Sprintf("same daemon, both sub-connections up before (a report received on each); resumption checked at the controller; DNS A queries per run: %s", spread(resetQ)))...), nil
}

// spread is "median (min–max)" of counts.
func spread(xs []float64) string {
	r := stat("", "", xs)
	if r.Min == r.Max {
		return strconv.FormatFloat(r.Median, 'f', -1, 64)
	}
	return fmt.Sprintf("%g (%g–%g)", r.Median, r.Min, r.Max)
}

// rttFailover: a cloudmgmt.Client on the primary (behind the RST proxy,
// then a delay relay); each run gives it a backup name it never resolved,
// resets the primary, and times Established on the backup; then the
// primary returns and `Reset()` brings the device back to it.
func rttFailover(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-rttfo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const serial = "BENCHRTTFO0001"
	sans := []string{"*." + rttZone, "127.0.0.1"}
	fp, err := startFailoverPair(dir, sans, serial)
	if err != nil {
		return nil, err
	}
	defer fp.stop()
	primary, backup, px := fp.primary, fp.backup, fp.px
	ns, err := startBenchDNS(rttTTL)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	var rl relays
	defer rl.Close()
	pr, err := rl.tcp("", relayHost+":0", px.addr, rttDelay)
	if err != nil {
		return nil, err
	}
	br, err := rl.tcp("", relayHost+":0", "127.0.0.1:"+strconv.Itoa(backup.port), rttDelay)
	if err != nil {
		return nil, err
	}
	ur, err := rl.udp("", relayHost+":0", ns.addr, rttDelay)
	if err != nil {
		return nil, err
	}
	primaryName := "primary." + rttZone
	ns.set(primaryName, relayAddr)
	lb := logbuf.New(4096, nil, nil)
	logs, unsub := lb.Subscribe(4096)
	defer unsub()
	cl := cloudmgmt.New(cloudmgmt.Options{Serial: serial, RootCAs: primary.pool, Log: lb,
		Rand: func() float64 { return 0 }, ResolvConf: "/nonexistent", DNSPort: ur.Addr().(*net.UDPAddr).Port})
	setBackup := func(name string) {
		ns.set(name, relayAddr)
		cl.SetConfig(config.Cloud{ServerDomain: primaryName, ServerPort: pr.Addr().(*net.TCPAddr).Port,
			Backups:   []config.Backup{{Domain: name, Port: br.Addr().(*net.TCPAddr).Port}},
			Keepalive: 180, Ping: 60}, []netip.Addr{relayAddr}, nil)
	}
	setBackup("backup0." + rttZone)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); cl.Run(cctx) }()
	defer func() { cancel(); <-done }()
	onPrimary := func() error {
		if _, err := waitLog(ctx, logs, 20*time.Second, "CLOUD_ESTABLISHED", primaryName); err != nil {
			return fmt.Errorf("%w; state:\n%s", err, cli.CloudManagementState(cl.Status(), time.UTC))
		}
		return waitCond(ctx, 20*time.Second, "sub-connections on the primary", func() bool {
			di, _ := primary.device(serial)
			return di.Connected && len(di.Subconns) == 2
		})
	}
	if err := onPrimary(); err != nil {
		return nil, err
	}
	var xs []time.Duration
	var qs []float64
	for i := 0; i < min(c.runs, rttMaxRuns); i++ {
		name := fmt.Sprintf("backup%d.%s", i+1, rttZone)
		setBackup(name)
		drain(logs)
		q0 := ns.queries.Load()
		t0 := time.Now()
		px.rst()
		e, err := waitLog(ctx, logs, 20*time.Second, "CLOUD_ESTABLISHED", name)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w; state:\n%s", i+1, err, cli.CloudManagementState(cl.Status(), time.UTC))
		}
		xs, qs = append(xs, e.Time.Sub(t0)), append(qs, float64(ns.queries.Load()-q0))
		if err := px.listen(); err != nil {
			return nil, err
		}
		drain(logs)
		cl.Reset()
		if err := onPrimary(); err != nil {
			return nil, fmt.Errorf("run %d: back to primary: %w", i+1, err)
		}
	}
	return rttRows("primary RST → Established on backup", floorFail, xs,
		fmt.Sprintf("cloudmgmt.Client, jitter 0 (a real device adds U(0,1) s); both controllers and DNS behind delay relays; a new backup name each run; DNS A queries per run: %s", spread(qs))), nil
}

const rttLeaseName = "DHCP lease with option 253 → Established"

// rttLeaseSkip is why the lease row cannot run here ("" = it can).
func rttLeaseSkip() string {
	if os.Geteuid() != 0 {
		return "needs root (network namespaces)"
	}
	for _, tool := range []string{"ip", "dnsmasq"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not installed"
		}
	}
	return ""
}

// benchRTTLease: DHCP lease with option 253 → Established on the zero-touch
// site of the netem measurement, its DNS and controller behind delay relays
// in the site's namespace. The lease itself is not delayed (the relays
// carry TCP and UDP to the site's address, not DHCP broadcasts); the row
// starts at the lease.
func benchRTTLease(ctx context.Context, c *benchConfig) ([]Row, error) {
	if reason := rttLeaseSkip(); reason != "" {
		return []Row{{Name: rttLeaseName, Skipped: reason}}, nil
	}
	ds, err := measureLeaseRelayed(ctx, c, rttDelay, min(c.runs, netemMaxRuns))
	if err != nil {
		return nil, err
	}
	return rttRows(rttLeaseName, floorFirst, ds,
		"DHCP_BOUND → CLOUD_ESTABLISHED of a factory-booted `netdevd run` in a netns; dnsmasq's DNS and cloudsim behind delay relays in the site's namespace; the lease and ARP are not delayed"), nil
}

// benchRTTSSH: connect + password login + one command over exec, on the
// real daemon (`display clock`) and on OpenSSH's sshd (`date`), each behind
// its own delay relay, same Go client, interleaved.
func benchRTTSSH(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-rttssh-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := startDevice(c, dir)
	if err != nil {
		return nil, err
	}
	defer d.p.kill()
	o, err := startOpenSSHPassword(c, dir)
	if err != nil {
		return nil, err
	}
	defer o.p.kill()
	var rl relays
	defer rl.Close()
	pw := func(user, pass string) *gossh.ClientConfig {
		return &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.Password(pass)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	}
	cfgD, cfgO := pw("admin", devicePassword), pw(o.user, o.password)
	// each server behind a relay with the delay, then behind one without
	// (the CPU part, for the notes)
	type sshRuns struct{ total, login, after []float64 } // ms; after = session + exec + output
	measure := func(delay time.Duration) (dev, ossh sshRuns, err error) {
		rd, err := rl.tcp("", relayHost+":0", d.sshAddr, delay)
		if err != nil {
			return dev, ossh, err
		}
		ro, err := rl.tcp("", relayHost+":0", o.addr, delay)
		if err != nil {
			return dev, ossh, err
		}
		one := func(r *sshRuns, p *proc, addr string, cfg *gossh.ClientConfig, cmd string) (float64, error) {
			if err := p.alive(); err != nil {
				return 0, err
			}
			var login time.Duration
			took, out, err := sshExec(addr, cfg, cmd, &login)
			if err == nil && !strings.Contains(out, ":") {
				err = fmt.Errorf("%s printed %q", cmd, out)
			}
			r.login, r.after = append(r.login, ms(login)), append(r.after, ms(took-login))
			return ms(took), err
		}
		dev.total, ossh.total, err = interleave(min(c.runs, rttMaxRuns), func() (float64, error) {
			return one(&dev, d.p, rd.Addr().String(), cfgD, "display clock")
		}, func() (float64, error) {
			return one(&ossh, o.p, ro.Addr().String(), cfgO, "date")
		})
		return dev, ossh, err
	}
	dv, os25, err := measure(rttDelay)
	if err != nil {
		return nil, err
	}
	dv0, os0, err := measure(0)
	if err != nil {
		return nil, err
	}
	if err := d.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	if err := o.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	rtts := func(xs []float64) []float64 {
		var out []float64
		for _, x := range xs {
			out = append(out, x/ms(2*rttDelay))
		}
		return out
	}
	med := func(xs []float64) float64 { return stat("", "", xs).Median }
	return []Row{
		stat(fmt.Sprintf("SSH connect + password login + exec (delay %d ms each way)", rttDelay.Milliseconds()), "ms", dv.total).
			withBaseline("OpenSSH sshd, `date`", os25.total).target("≤ 1.5× OpenSSH", 1.5, true).
			note("device: `display clock`; same x/crypto/ssh client, password login, each server behind its own delay relay; OpenSSH: Debian sshd, UsePAM yes, user " + o.user),
		stat("SSH connect + password login + exec, in round trips", "RTT", rtts(dv.total)).
			withBaseline("OpenSSH sshd", rtts(os25.total)).
			note(fmt.Sprintf("of which connect + login: device %.2f RTT, OpenSSH %.2f RTT; the same without delay (CPU): device login %.1f ms (its password hash, in the login's path), OpenSSH login %.1f ms + session and exec %.1f ms (PAM, fork: beside the client's round trips when delayed)",
				med(dv.login)/ms(2*rttDelay), med(os25.login)/ms(2*rttDelay), med(dv0.login), med(os0.login), med(os0.after))),
		stat("SSH after login: session open + exec + output, in round trips", "RTT", rtts(dv.after)).
			withBaseline("OpenSSH sshd", rtts(os25.after)).target("floor 2 + ≤ 1", 3, false).
			note("floor: channel open 1 + exec request 1 (the output, exit status and close come with its answer)"),
	}, nil
}

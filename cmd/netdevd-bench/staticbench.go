package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
	devicecontract "github.com/netdevd/netdevd/internal/device"
)

// Bring-up without DHCP (tests/staticnet_test.go's site): namespace "dev"
// runs netdevd on its end of a veth pair to a gateway namespace that
// forwards to namespace "ctl", where dnsmasq (DNS only) and cloudsim sit on
// another subnet. No DHCP server anywhere; no traffic leaves the three
// namespaces.
const (
	staticDevAddr   = "10.79.0.2"
	staticGwDevAddr = "10.79.0.1"
	staticGwCtlAddr = "198.51.100.1"
	staticCtlAddr   = "198.51.100.20"
	staticDomain    = "ctl.static.bench.test"
	staticMaxRuns   = 11 // each run boots a device
	pingBatch       = 10 // echo requests per batch, each side of an A/B pair
	pingRounds      = 6  // A/B pairs
)

type staticSite struct {
	c          *benchConfig
	dir        string
	tlsDir     string
	dev, gw    string
	ctl        string
	devIf      string
	serial     string
	netns      []string
	procs      []*proc
	device     *proc  // the last run's device, still running for the ping rows
	deviceData string // its data directory
}

// benchStatic: the time from the last bring-up line (the cloud domain,
// typed after the static address, the default route and the DNS server)
// to Established; then the RTT of the device's ping against the system's
// ping to the same address, interleaved.
func benchStatic(ctx context.Context, c *benchConfig) (rows []Row, err error) {
	if reason := staticSkip(); reason != "" {
		return []Row{{Name: "last bring-up line → Established (static address, no DHCP)", Skipped: reason}}, nil
	}
	s, err := newStaticSite(ctx, c)
	if err != nil {
		return nil, err
	}
	defer func() {
		if e := s.close(); e != nil && err == nil {
			rows, err = nil, e
		}
	}()
	var ups []float64
	runs := min(c.runs, staticMaxRuns)
	for i := 0; i < runs; i++ {
		d, err := s.bringUp(ctx, i, i == runs-1)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		ups = append(ups, ms(d))
	}
	rows = append(rows, stat("last bring-up line → Established (static address, no DHCP)", "ms", ups).
		note("`cloud-management server domain` sent (after ip address, ip route-static 0.0.0.0 0, dns server, the route in the kernel) → CLOUD_ESTABLISHED; controller and DNS behind a forwarding gateway namespace; fresh device per run"))
	pingRow, err := s.pingRows(ctx)
	if err != nil {
		return nil, err
	}
	return append(rows, pingRow), nil
}

// staticSkip is why the measurement cannot run here ("" = it can).
func staticSkip() string {
	for _, b := range []string{"ip", "dnsmasq"} {
		if _, err := exec.LookPath(b); err != nil {
			return b + " not installed"
		}
	}
	if os.Geteuid() != 0 {
		return "needs root (network namespaces)"
	}
	return ""
}

func newStaticSite(ctx context.Context, c *benchConfig) (*staticSite, error) {
	for _, b := range []string{c.netdevdBin, c.cloudsimBin} {
		if err := checkBinary(b); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "netdevd-bench-static-")
	if err != nil {
		return nil, err
	}
	pid, n := os.Getpid(), siteSeq.Add(1)
	s := &staticSite{c: c, dir: dir, tlsDir: filepath.Join(dir, "tls"),
		dev: fmt.Sprintf("ndb-static-dev-%d-%d", pid, n), gw: fmt.Sprintf("ndb-static-gw-%d-%d", pid, n),
		ctl: fmt.Sprintf("ndb-static-ctl-%d-%d", pid, n), devIf: fmt.Sprintf("nsd%d%d", pid%100000, n%1000),
		serial: fmt.Sprintf("210235NS%012d", pid*1000+int(n%1000))}
	if err := s.setUp(ctx); err != nil {
		return nil, errors.Join(err, s.close())
	}
	return s, nil
}

func (s *staticSite) setUp(ctx context.Context) error {
	for _, ns := range []string{s.dev, s.gw, s.ctl} {
		if err := tool("ip", "netns", "add", ns); err != nil {
			return err
		}
		s.netns = append(s.netns, ns)
	}
	gwDev, gwCtl, ctlIf := "g"+s.devIf, "h"+s.devIf, "c"+s.devIf
	for _, a := range [][]string{
		{"-n", s.gw, "link", "add", gwDev, "type", "veth", "peer", "name", s.devIf, "netns", s.dev},
		{"-n", s.gw, "link", "add", gwCtl, "type", "veth", "peer", "name", ctlIf, "netns", s.ctl},
		{"-n", s.gw, "addr", "add", staticGwDevAddr + "/24", "dev", gwDev},
		{"-n", s.gw, "addr", "add", staticGwCtlAddr + "/24", "dev", gwCtl},
		{"-n", s.ctl, "addr", "add", staticCtlAddr + "/24", "dev", ctlIf},
		{"-n", s.gw, "link", "set", gwDev, "up"}, {"-n", s.gw, "link", "set", gwCtl, "up"},
		{"-n", s.ctl, "link", "set", "lo", "up"}, {"-n", s.ctl, "link", "set", ctlIf, "up"},
		{"-n", s.dev, "link", "set", "lo", "up"}, {"-n", s.dev, "link", "set", s.devIf, "up"},
		{"-n", s.ctl, "route", "add", "default", "via", staticGwCtlAddr},
	} {
		if err := tool("ip", a...); err != nil {
			return err
		}
	}
	if err := tool("ip", "netns", "exec", s.gw, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"); err != nil {
		return err
	}
	if err := s.startDNS(); err != nil {
		return err
	}
	p, err := start("cloudsim", ipPath(), true, "netns", "exec", s.ctl, s.c.cloudsimBin, "run",
		"--listen", staticCtlAddr+":19443", "--admin-listen", "none", "--tls-dir", s.tlsDir,
		"--serial", s.serial, "--domain", staticDomain, "--log-level", "warn")
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	_, err = p.waitLine(ctx, "cloudsim listening", 20*time.Second)
	return err
}

// startDNS: dnsmasq answering the controller's name, no DHCP.
func (s *staticSite) startDNS() error {
	conf := fmt.Sprintf("listen-address=%s\nbind-interfaces\nno-resolv\nno-hosts\naddress=/%s/%s\nlog-facility=-\npid-file=\nuser=root\n",
		staticCtlAddr, staticDomain, staticCtlAddr)
	path := filepath.Join(s.dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		return err
	}
	p, err := start("dnsmasq", ipPath(), false, "netns", "exec", s.ctl, bin, "--no-daemon", "--conf-file="+path)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return waitOutput(p, "started, version", 10*time.Second)
}

// bringUp boots a factory device, configures it as an engineer would, and
// returns the time from the domain line to Established. keep leaves the
// device running (the ping rows use it).
func (s *staticSite) bringUp(ctx context.Context, i int, keep bool) (time.Duration, error) {
	for _, a := range [][]string{{"-n", s.dev, "addr", "flush", "dev", s.devIf}, {"-n", s.dev, "route", "flush", "proto", "78"}} {
		if err := tool("ip", a...); err != nil {
			return 0, err
		}
	}
	dataDir := filepath.Join(s.dir, "flash-"+strconv.Itoa(i))
	p, err := start("netdevd run (netns)", ipPath(), false, "netns", "exec", s.dev, s.c.netdevdBin, "run",
		"--data-dir", dataDir, "--ssh-listen", "127.0.0.1:22", "--log-level", "error",
		"--vlan-interface1", s.devIf, "--serial", s.serial, "--ca-file", filepath.Join(s.tlsDir, controller.CAFile))
	if err != nil {
		return 0, err
	}
	if keep {
		s.device, s.deviceData = p, dataDir
	} else {
		defer p.kill()
	}
	cl := localapi.NewClient(daemon.SocketPath(dataDir), "")
	defer cl.Close()
	if err := waitCond(ctx, bootLimit, "the local API", func() bool { _, err := cl.WhoAmI(ctx); return err == nil }); err != nil {
		return 0, errors.Join(err, p.alive())
	}
	if err := s.exec(ctx, cl, "system-view", "interface Vlan-interface1", "ip address "+staticDevAddr+" 24", "quit",
		"ip route-static 0.0.0.0 0 "+staticGwDevAddr, "dns server "+staticCtlAddr); err != nil {
		return 0, err
	}
	err = waitCond(ctx, bootLimit, "the default route in the kernel", func() bool {
		out, _ := toolOutput("ip", "-n", s.dev, "route", "show", "proto", "78")
		return strings.HasPrefix(out, "default via "+staticGwDevAddr)
	})
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := s.exec(ctx, cl, "system-view", "cloud-management server domain "+staticDomain); err != nil {
		return 0, err
	}
	var up time.Time
	err = waitCond(ctx, bootLimit, "CLOUD_ESTABLISHED", func() bool {
		snap, err := cl.LogBuffer(ctx)
		if err == nil {
			up, _ = firstEntry(snap, "CLOUD_ESTABLISHED")
		}
		return !up.IsZero()
	})
	if err != nil {
		return 0, errors.Join(err, p.alive())
	}
	if !keep {
		if err := p.stop(10 * time.Second); err != nil {
			return 0, err
		}
	}
	return up.Sub(t0), nil
}

func (s *staticSite) exec(ctx context.Context, cl *localapi.Client, lines ...string) error {
	out, ok, err := cl.Exec(ctx, lines)
	if err != nil || !ok {
		return fmt.Errorf("exec %q: %v\n%s", lines, err, out)
	}
	return nil
}

var pingTime = regexp.MustCompile(`time=([0-9.]+) ms`)

// pingRows: batches of the device's ping (through the local API; the RTT
// is taken in the daemon) and of the system's ping run in the device's
// namespace, alternated, to the controller through the gateway, both at
// Comware's 200 ms interval.
func (s *staticSite) pingRows(ctx context.Context) (Row, error) {
	const name = "ping RTT to the controller through the gateway (netdevd ping)"
	if _, err := exec.LookPath("ping"); err != nil {
		return Row{Name: name, Skipped: "system ping (iputils-ping) not installed: no baseline"}, nil
	}
	cl := localapi.NewClient(daemon.SocketPath(s.deviceData), "")
	defer cl.Close()
	dest, err := cl.ResolveHost(ctx, staticDomain)
	if err != nil {
		return Row{}, err
	}
	var ours, sys []float64
	for r := 0; r < pingRounds; r++ {
		replies, err := cl.Ping(ctx, devicecontract.PingRequest{Dest: dest, Count: pingBatch, Size: 56, Timeout: 2 * time.Second, Interval: 200 * time.Millisecond})
		if err != nil {
			return Row{}, err
		}
		for rep := range replies {
			if rep.Timeout || rep.Error != "" {
				return Row{}, fmt.Errorf("netdevd ping %d lost: %+v", rep.Seq, rep)
			}
			ours = append(ours, ms(rep.RTT))
		}
		out, err := toolOutput("ip", "netns", "exec", s.dev, "ping", "-n", "-c", strconv.Itoa(pingBatch), "-i", "0.2", "-s", "56", dest.String())
		if err != nil {
			return Row{}, err
		}
		for _, m := range pingTime.FindAllStringSubmatch(out, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			sys = append(sys, v)
		}
	}
	if len(ours) != pingRounds*pingBatch || len(sys) != pingRounds*pingBatch {
		return Row{}, fmt.Errorf("pings answered: netdevd %d, system %d, want %d each", len(ours), len(sys), pingRounds*pingBatch)
	}
	return stat(name, "ms", ours).withBaseline("system ping (iputils) in the device's namespace, same address, interleaved", sys).
		target("≈ 1", 1.5, true).
		note(fmt.Sprintf("%d batches of %d echo requests each side, 56 data bytes, 200 ms apart, alternated; both time the reply by the kernel's receive timestamp and the request by the clock just before sending", pingRounds, pingBatch)), nil
}

// close stops the processes and deletes the namespaces and files.
func (s *staticSite) close() error {
	if s.device != nil {
		s.device.kill()
	}
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].kill()
	}
	var errs []error
	for _, ns := range s.netns {
		errs = append(errs, tool("ip", "netns", "del", ns))
	}
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

// ipPath is ip(8), wherever it is installed.
func ipPath() string {
	if p, err := exec.LookPath("ip"); err == nil {
		return p
	}
	return "ip"
}

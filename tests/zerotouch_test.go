package tests

// Zero-touch provisioning end to end with the real binaries (root): a
// factory-configured netdevd in namespace "dev" learns its controller's
// domain from DHCP option 253 served by dnsmasq in namespace "site", where
// two cloudsim processes play controllers cloud-a and cloud-b.

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	ztAddrA   = "10.253.0.1" // dnsmasq (DHCP, DNS) and cloudsim A
	ztAddrB   = "10.253.0.2" // cloudsim B
	ztDomainA = "cloud-a.zt.test"
	ztDomainB = "cloud-b.zt.test"
)

// ztSite is the site namespace: dnsmasq and the controllers.
type ztSite struct {
	*netPair
	t       testing.TB
	dir     string
	tlsDir  string
	serial  string
	dnsmasq *proc
}

func newZTSite(t testing.TB) *ztSite {
	t.Helper()
	requireNetns(t)
	s := &ztSite{netPair: newNetPair(t), t: t, dir: t.TempDir(),
		serial: fmt.Sprintf("210235ZT%012d", os.Getpid()*1000+int(netnsSeq.Load()))}
	s.tlsDir = filepath.Join(s.dir, "tls")
	ip(t, "-n", s.site, "addr", "add", ztAddrA+"/24", "dev", s.siteIf)
	ip(t, "-n", s.site, "addr", "add", ztAddrB+"/24", "dev", s.siteIf)
	return s
}

// startDnsmasq (re)starts dnsmasq with option253 as the literal right-hand
// side of dhcp-option=253 (quotes included when wanted). The lease file
// survives a restart, so INIT-REBOOT finds the lease again.
func (s *ztSite) startDnsmasq(option253 string, ping bool) {
	s.t.Helper()
	if s.dnsmasq != nil {
		s.dnsmasq.stop()
	}
	conf := fmt.Sprintf(`interface=%s
bind-interfaces
except-interface=lo
dhcp-range=10.253.0.100,10.253.0.150,255.255.255.0,1h
dhcp-option=option:dns-server,%s
dhcp-option=253,%s
dhcp-authoritative
dhcp-leasefile=%s
address=/%s/%s
address=/%s/%s
no-resolv
no-hosts
log-dhcp
log-facility=-
pid-file=
user=root
`, s.siteIf, ztAddrA, option253, filepath.Join(s.dir, "leases"), ztDomainA, ztAddrA, ztDomainB, ztAddrB)
	if !ping {
		conf += "no-ping\n"
	}
	path := filepath.Join(s.dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.dnsmasq = startProc(s.t, s.site, "DHCP, IP range", "dnsmasq", "--no-daemon", "--conf-file="+path)
}

// startCloudsim runs a controller on addr:19443 (the port the device uses
// for a DHCP-learned domain) with its admin endpoint on the site's loopback.
// Start them one after the other: the first makes the shared TLS files.
func (s *ztSite) startCloudsim(addr string, adminPort int) *proc {
	s.t.Helper()
	return startProc(s.t, s.site, "cloudsim listening on", bin("cloudsim"), "run",
		"--listen", addr+":19443", "--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort),
		"--tls-dir", s.tlsDir, "--serial", s.serial, "--domain", ztDomainA+","+ztDomainB, "--log-level", "warn")
}

// simDevices is `cloudsim devices` against a controller's admin endpoint.
func (s *ztSite) simDevices(adminPort int) string {
	out, _ := exec.Command("ip", "netns", "exec", s.site, bin("cloudsim"), "devices",
		"--admin", fmt.Sprintf("127.0.0.1:%d", adminPort)).CombinedOutput()
	return string(out)
}

// startDevice boots a factory-configured device on the dev end of the veth.
func (s *ztSite) startDevice(dataDir string) *device {
	s.t.Helper()
	return startDeviceInNetns(s.t, s.dev, dataDir, "--vlan-interface1", s.devIf,
		"--ca-file", filepath.Join(s.tlsDir, "ca.pem"), "--serial", s.serial)
}

// ztWait polls `netdevd exec line` until its output holds every want; on
// timeout it fails with the last output, the log buffer and dnsmasq's log.
func ztWait(t testing.TB, s *ztSite, d *device, timeout time.Duration, line string, wants ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var out string
	for {
		out, _ = d.exec(line)
		ok := true
		for _, w := range wants {
			ok = ok && strings.Contains(out, w)
		}
		if ok {
			return out
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs, _ := d.exec("display logbuffer")
	t.Fatalf("timed out after %v waiting for %q in `%s`; last output:\n%s\nlog buffer:\n%s\ndnsmasq:\n%s",
		timeout, wants, line, out, logs, s.dnsmasq.out)
	return ""
}

// flapLink takes the device's link down and, once the client has logged the
// down edge (the kernel coalesces carrier changes to one a second, so a
// quicker flap is not seen at all), up again.
func flapLink(t testing.TB, s *ztSite, d *device) {
	t.Helper()
	logs := d.mustExec("display logbuffer")
	downs := strings.Count(logs, "DHCP_LINK_DOWN")
	ip(t, "-n", s.dev, "link", "set", s.devIf, "down")
	waitFor(t, 5*time.Second, "DHCP_LINK_DOWN in the log buffer", func() bool {
		return strings.Count(d.mustExec("display logbuffer"), "DHCP_LINK_DOWN") > downs
	})
	ip(t, "-n", s.dev, "link", "set", s.devIf, "up")
}

func TestZeroTouchEndToEnd(t *testing.T) {
	s := newZTSite(t)
	s.startDnsmasq(`"`+ztDomainA+`"`, false)
	s.startCloudsim(ztAddrA, 19480)
	s.startCloudsim(ztAddrB, 19481)

	d := s.startDevice("") // no startup.cfg: factory configuration, ip address dhcp-alloc
	t0 := time.Now()
	ztWait(t, s, d, 15*time.Second, "display dhcp client", "Current state: BOUND")
	ztWait(t, s, d, 15*time.Second, "display cloud-management state",
		"Cloud connection state   : Established\n", "Cloud server domain name : "+ztDomainA+"\n")
	t.Logf("factory boot → Established on %s in %v", ztDomainA, time.Since(t0).Round(time.Millisecond))
	checkDefaultRoute(t, s)
	if out := s.simDevices(19480); !regexp.MustCompile(s.serial + `\s+\S+\s+up\b`).MatchString(out) {
		t.Errorf("cloudsim A does not list %s as up:\n%s", s.serial, out)
	}

	// New option 253 value. To make the client take a new lease now we flap
	// its link: on link up it runs INIT-REBOOT (broadcast REQUEST for the
	// same address) and dnsmasq's ACK carries the current options. This is
	// what a site sees when a device is re-plugged, needs no CLI, and keeps
	// the address. (Toggling undo ip address dhcp-alloc / ip address
	// dhcp-alloc in interface Vlan-interface1 works too, tried: RELEASE
	// removes the address, the new DISCOVER gets the new 253; but that is an
	// operator's action and makes the address disappear under the tunnel.)
	s.startDnsmasq(`"`+ztDomainB+`"`, false)
	t1 := time.Now()
	flapLink(t, s, d)
	ztWait(t, s, d, 15*time.Second, "display cloud-management state",
		"Cloud connection state   : Established\n", "Cloud server domain name : "+ztDomainB+"\n")
	t.Logf("link up → Established on %s in %v", ztDomainB, time.Since(t1).Round(time.Millisecond))
	checkDefaultRoute(t, s) // the kernel dropped it at link down; the INIT-REBOOT ACK must restore it
	ztWait(t, s, d, 5*time.Second, "display dhcp client verbose", "Current state: BOUND",
		"Option 253 (cloud domain): "+ztDomainB+"\n", "Option 253 rejected: 0\n")
	if out := s.simDevices(19481); !regexp.MustCompile(s.serial + `\s+\S+\s+up\b`).MatchString(out) {
		t.Errorf("cloudsim B does not list %s as up:\n%s", s.serial, out)
	}
	logs := d.mustExec("display logbuffer")
	if !regexp.MustCompile(`CLOUD_DOWN: Cloud connection to ` + regexp.QuoteMeta(ztDomainA) + ` went down: domain changed`).MatchString(logs) {
		t.Errorf("no `domain changed` down line for %s in the log buffer:\n%s", ztDomainA, logs)
	}

	// Malformed option 253: an address sent as 4 binary bytes. The device
	// must reject it, count it, and stay where it is.
	s.startDnsmasq("0a:00:00:01", false)
	flapLink(t, s, d)
	out := ztWait(t, s, d, 15*time.Second, "display dhcp client verbose", "Option 253 rejected: 1\n")
	if !strings.Contains(out, "Current state: BOUND") || !strings.Contains(out, "Option 253 (cloud domain): "+ztDomainB+"\n") {
		t.Errorf("after the malformed 253:\n%s", out)
	}
	st := d.mustExec("display cloud-management state")
	time.Sleep(1 * time.Second) // give a wrong reaction time to show
	st2 := d.mustExec("display cloud-management state")
	for _, o := range []string{st, st2} {
		if !strings.Contains(o, "Cloud connection state   : Established\n") || !strings.Contains(o, "Cloud server domain name : "+ztDomainB+"\n") {
			t.Fatalf("after the malformed 253 the device left cloud-b:\n%s", o)
		}
	}
	if connectedAt(st) != connectedAt(st2) {
		t.Errorf("connection was re-established after the malformed 253:\n%s\n%s", st, st2)
	}
	logs = d.mustExec("display logbuffer")
	if !strings.Contains(logs, "DHCP_OPT253_INVALID") {
		t.Errorf("no DHCP_OPT253_INVALID in the log buffer:\n%s", logs)
	}
	if n := strings.Count(logs, "CLOUD_ESTABLISHED"); n != 2 {
		t.Errorf("%d CLOUD_ESTABLISHED lines, want 2 (cloud-a, then cloud-b):\n%s", n, logs)
	}
	if testing.Verbose() {
		t.Logf("log buffer:\n%s", logs)
	}
}

// checkDefaultRoute: option 3 (dnsmasq's own address) is the default route
// of the dev namespace, metric 1000.
func checkDefaultRoute(t testing.TB, s *ztSite) {
	t.Helper()
	out, _ := exec.Command("ip", "-n", s.dev, "route", "show", "default").CombinedOutput()
	if !regexp.MustCompile(`default via ` + regexp.QuoteMeta(ztAddrA) + ` dev ` + s.devIf + `\b.* metric 1000\b`).Match(out) {
		t.Errorf("no default route via %s metric 1000 on %s:\n%s", ztAddrA, s.devIf, out)
	}
}

func connectedAt(state string) string {
	m := regexp.MustCompile(`(?m)^Connected at\s+: (.*)$`).FindStringSubmatch(state)
	if m == nil {
		return ""
	}
	return m[1]
}

// logTimes returns the time of the first log-buffer line per mnemonic
// (Comware format, millisecond resolution).
func logTimes(t testing.TB, logs string) map[string]time.Time {
	t.Helper()
	re := regexp.MustCompile(`(?m)^%(\w{3} [ \d]\d \d\d:\d\d:\d\d):(\d{3}) (\d{4}) \S+ \w+/\d/(\w+):`)
	got := map[string]time.Time{}
	for _, m := range re.FindAllStringSubmatch(logs, -1) {
		if _, ok := got[m[4]]; ok {
			continue
		}
		ts, err := time.ParseInLocation("Jan _2 15:04:05 2006", m[1]+" "+m[3], time.Local)
		if err != nil {
			t.Fatalf("log time %q: %v", m[0], err)
		}
		var ms int
		fmt.Sscanf(m[2], "%d", &ms)
		got[m[4]] = ts.Add(time.Duration(ms) * time.Millisecond)
	}
	return got
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkZeroTouchAckToEstablished (go test -run ^$ -bench ZeroTouch -benchtime 1x ./tests/): DHCP ACK → cloud Established, i.e.
// from the DHCP_BOUND log line to the CLOUD_ESTABLISHED one, on a freshly
// booted device (new data dir, new MAC, no address) per run, with dnsmasq
// restarted on an empty lease file per run (it caches ping results, so
// without the restart only the first run would ping). Also reports process
// start → DHCP_BOUND, where the ping check shows.
func BenchmarkZeroTouchAckToEstablished(b *testing.B) {
	var t testing.TB = b
	runs := 20 // fixed: each run boots a fresh device; b.N is not used
	s := newZTSite(t)
	s.startDnsmasq(`"`+ztDomainA+`"`, false)
	s.startCloudsim(ztAddrA, 19480)
	for _, ping := range []bool{false, true} {
		var ackToUp, startToAck []time.Duration
		for i := 0; i < runs; i++ {
			mac := make([]byte, 6)
			rand.Read(mac)
			mac[0] = mac[0]&^1 | 2 // unicast, locally administered
			ip(t, "-n", s.dev, "link", "set", s.devIf, "down")
			ip(t, "-n", s.dev, "addr", "flush", "dev", s.devIf)
			ip(t, "-n", s.dev, "link", "set", s.devIf, "address", fmt.Sprintf("%x:%x:%x:%x:%x:%x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]))
			ip(t, "-n", s.dev, "link", "set", s.devIf, "up")
			os.Remove(filepath.Join(s.dir, "leases"))
			s.startDnsmasq(`"`+ztDomainA+`"`, ping)
			time.Sleep(1100 * time.Millisecond) // let the carrier settle before the boot
			start := time.Now()
			d := s.startDevice("")
			ztWait(t, s, d, 30*time.Second, "display cloud-management state", "Cloud connection state   : Established\n")
			lt := logTimes(t, d.mustExec("display logbuffer"))
			bound, ok1 := lt["DHCP_BOUND"]
			up, ok2 := lt["CLOUD_ESTABLISHED"]
			if !ok1 || !ok2 {
				t.Fatalf("run %d: missing DHCP_BOUND or CLOUD_ESTABLISHED:\n%s", i, d.mustExec("display logbuffer"))
			}
			ackToUp = append(ackToUp, up.Sub(bound))
			startToAck = append(startToAck, bound.Sub(start.Truncate(time.Millisecond)))
			d.stop()
		}
		mode := "no-ping"
		if ping {
			mode = "ping check"
		}
		t.Logf("dnsmasq %s, %d runs: DHCP_BOUND→CLOUD_ESTABLISHED median %v (min %v, max %v); process start→DHCP_BOUND median %v (min %v, max %v)",
			mode, runs, median(ackToUp), slices.Min(ackToUp), slices.Max(ackToUp),
			median(startToAck), slices.Min(startToAck), slices.Max(startToAck))
		t.Logf("  ack→established: %v", ackToUp)
		t.Logf("  start→bound:     %v", startToAck)
	}
}

//go:build linux

package dhcpopt

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// BenchmarkLeaseTime measures how long obtaining a lease takes in the netns
// setup: this client (DISCOVER→ACK, and socket open→ACK) against busybox
// udhcpc (whole process, started with `ip netns exec`), with dnsmasq's
// `no-ping` and with its ping check. It reports numbers; it asserts nothing
// about them. Run with:
//
//	go test ./dhcpopt -run '^$' -bench LeaseTime -benchtime 1x -v
//
// Every run uses a fresh random MAC so that dnsmasq treats it as a new client,
// and a freshly started dnsmasq.
func BenchmarkLeaseTime(b *testing.B) {
	var t testing.TB = b
	runs := 20 // fixed: every run starts dnsmasq afresh; b.N is not used
	if s := os.Getenv("DHCPOPT_MEASURE_RUNS"); s != "" {
		fmt.Sscan(s, &runs)
	}
	e := newNetEnv(t)
	_, busyErr := exec.LookPath("busybox")
	sn := e.sniff()

	type result struct {
		name string
		vals []time.Duration
	}
	var results []result
	for _, ping := range []bool{false, true} {
		mode := "no-ping"
		if ping {
			mode = "ping check"
		}
		// dnsmasq remembers pings for 30 s and stops pinging under load, so
		// it is restarted before every run: each run gets the full check.
		restart := func() { e.startDnsmasq(`"cloud.example.test"`, ping) }

		var dora, total, wire []time.Duration
		for i := 0; i < runs; i++ {
			restart()
			mac := e.newMAC()
			var err error
			e.inDev(func() {
				var d, tot time.Duration
				d, tot, err = ourLease(e.devIf)
				dora, total = append(dora, d), append(total, tot)
			})
			if err != nil {
				t.Fatalf("run %d: %v\n%s", i, err, e.log())
			}
			wire = append(wire, sn.wait(t, mac))
		}
		results = append(results,
			result{name: "netdevd DISCOVER→ACK on the wire, dnsmasq " + mode, vals: wire},
			result{name: "netdevd DISCOVER→ACK in the client, dnsmasq " + mode, vals: dora},
			result{name: "netdevd socket open→ACK, dnsmasq " + mode, vals: total})

		if busyErr == nil {
			var bb, bbWire []time.Duration
			for i := 0; i < runs; i++ {
				restart()
				mac := e.newMAC()
				start := time.Now()
				out, err := exec.Command("ip", "netns", "exec", e.dev, "busybox", "udhcpc",
					"-i", e.devIf, "-n", "-q", "-f", "-O", "253", "-s", "/bin/true").CombinedOutput()
				bb = append(bb, time.Since(start))
				if err != nil || !strings.Contains(string(out), "obtained") {
					t.Fatalf("udhcpc: %v\n%s", err, out)
				}
				bbWire = append(bbWire, sn.wait(t, mac))
			}
			results = append(results,
				result{name: "udhcpc DISCOVER→ACK on the wire, dnsmasq " + mode, vals: bbWire},
				result{name: "udhcpc whole process, dnsmasq " + mode, vals: bb})
		}
	}
	if busyErr == nil {
		var base []time.Duration
		for i := 0; i < runs; i++ {
			start := time.Now()
			if err := exec.Command("ip", "netns", "exec", e.dev, "busybox", "true").Run(); err != nil {
				t.Fatal(err)
			}
			base = append(base, time.Since(start))
		}
		results = append(results, result{name: "ip netns exec busybox true (process overhead)", vals: base})
	}
	t.Logf("%d runs each (median, min, max):", runs)
	for _, r := range results {
		s := slices.Clone(r.vals)
		slices.Sort(s)
		t.Logf("  %-58s median %9s  min %9s  max %9s", r.name, median(s).Round(10*time.Microsecond),
			s[0].Round(10*time.Microsecond), s[len(s)-1].Round(10*time.Microsecond))
	}
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// sniffer timestamps, per client MAC, the first DHCPDISCOVER arriving in the
// site namespace and the first DHCPACK arriving in the dev namespace (both
// incoming: a protocol packet socket does not see outgoing frames). Same
// host, same clock: the difference is DISCOVER→ACK on the wire, measured the
// same way for every client.
type sniffer struct {
	mu       sync.Mutex
	discover map[string]time.Time
	ack      map[string]time.Time
}

func (e *netEnv) sniff() *sniffer {
	sn := &sniffer{discover: map[string]time.Time{}, ack: map[string]time.Time{}}
	listen := func(ns netns.NsHandle, iface string, port int, typ dhcpv4.MessageType, into map[string]time.Time) {
		ready := make(chan net.PacketConn, 1)
		go func() {
			runtime.LockOSThread()
			if err := netns.Set(ns); err != nil {
				e.t.Error(err)
				ready <- nil
				return
			}
			conn, err := nclient4.NewRawUDPConn(iface, port)
			if err != nil {
				e.t.Error(err)
				ready <- nil
				return
			}
			ready <- conn
			buf := make([]byte, 1500)
			for {
				n, _, err := conn.ReadFrom(buf)
				if err != nil {
					return
				}
				now := time.Now()
				m, err := dhcpv4.FromBytes(buf[:n])
				if err != nil || m.MessageType() != typ {
					continue
				}
				sn.mu.Lock()
				if _, ok := into[m.ClientHWAddr.String()]; !ok {
					into[m.ClientHWAddr.String()] = now
				}
				sn.mu.Unlock()
			}
		}()
		if conn := <-ready; conn != nil {
			e.t.Cleanup(func() { conn.Close() })
		}
	}
	listen(e.siteNs, e.siteIf, nclient4.ServerPort, dhcpv4.MessageTypeDiscover, sn.discover)
	listen(e.devNs, e.devIf, nclient4.ClientPort, dhcpv4.MessageTypeAck, sn.ack)
	return sn
}

func (sn *sniffer) wait(t testing.TB, mac net.HardwareAddr) time.Duration {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		sn.mu.Lock()
		d, ok1 := sn.discover[mac.String()]
		a, ok2 := sn.ack[mac.String()]
		sn.mu.Unlock()
		if ok1 && ok2 {
			return a.Sub(d)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("sniffer saw no DISCOVER/ACK for %s", mac)
	return 0
}

// newMAC gives the dev interface a fresh locally administered MAC.
func (e *netEnv) newMAC() net.HardwareAddr {
	e.t.Helper()
	h, err := netlink.NewHandleAt(e.devNs)
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName(e.devIf)
	if err != nil {
		e.t.Fatal(err)
	}
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&0xfe | 0x02
	if err := h.LinkSetHardwareAddr(link, mac); err != nil {
		e.t.Fatal(err)
	}
	return mac
}

// ourLease runs one DORA with the same library calls and requested options as
// the client, then releases. Called on a thread in the dev namespace.
func ourLease(iface string) (dora, total time.Duration, err error) {
	start := time.Now()
	cl, err := nclient4.New(iface, nclient4.WithTimeout(4*time.Second), nclient4.WithRetry(2))
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	c := &Client{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	t0 := time.Now()
	offer, err := cl.DiscoverOffer(ctx, c.requested()...)
	if err != nil {
		return 0, 0, err
	}
	l, err := cl.RequestFromOffer(ctx, offer, c.requested()...)
	if err != nil {
		return 0, 0, err
	}
	end := time.Now()
	if _, err := ValidateDomain(l.ACK.Options.Get(dhcpv4.GenericOptionCode(253))); err != nil {
		return 0, 0, fmt.Errorf("option 253: %w", err)
	}
	cl.Release(l)
	return end.Sub(t0), end.Sub(start), nil
}

package cloudmgmt

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
)

// Round trips the connection path does not spend (issue 14): answers kept
// for their TTL, the next server's name resolved beside an attempt, and an
// upgrade that heeds the end of its step. The figures are in the bench
// (cmd/netdevd-bench, rttcloud); these tests count queries and states.

// countingDNS answers A 127.0.0.1 with ttl for every name and counts the
// queries per name (lower case, no trailing dot).
type countingDNS struct {
	port int
	ttl  uint32
	mu   sync.Mutex
	n    map[string]int
}

func startCountingDNS(t *testing.T, ttl uint32) *countingDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &countingDNS{port: pc.LocalAddr().(*net.UDPAddr).Port, ttl: ttl, n: map[string]int{}}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		c.mu.Lock()
		c.n[strings.TrimSuffix(strings.ToLower(q.Name), ".")]++
		c.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA,
			Class: dns.ClassINET, Ttl: c.ttl}, A: net.IPv4(127, 0, 0, 1)})
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return c
}

func (c *countingDNS) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// A reset within the answer's TTL connects without asking DNS again; once
// the TTL has passed on the device's clock, it asks again. An answer with
// TTL 0 is never kept.
func TestDNSAnswerKeptForItsTTL(t *testing.T) {
	c := startCtrl(t, 0)
	ns := startCountingDNS(t, 60)
	d := newDev(t, func(o *Options) { o.DNSPort = ns.port })
	d.SetConfig(cloudCfg("cloud.test", c.Port), []netip.Addr{lo}, nil)
	d.waitState(t, "Established")
	reconnect := func() {
		t.Helper()
		d.Reset()
		waitFor(t, "the reset's new connection", func() bool {
			return d.state() == "Established" && d.Status().LastDownReason != ""
		})
		d.quiesce(t)
	}
	reconnect()
	if n := ns.count("cloud.test"); n != 1 {
		t.Fatalf("%d queries for cloud.test after a reset within the TTL, want 1", n)
	}
	d.advance(t, 61*time.Second)
	reconnect()
	if n := ns.count("cloud.test"); n != 2 {
		t.Fatalf("%d queries after the TTL passed, want 2", n)
	}

	ns0 := startCountingDNS(t, 0)
	d0 := newDev(t, func(o *Options) { o.DNSPort = ns0.port })
	d0.SetConfig(cloudCfg("cloud.test", c.Port), []netip.Addr{lo}, nil)
	d0.waitState(t, "Established")
	d0.Reset()
	waitFor(t, "the reset's new connection", func() bool {
		return d0.state() == "Established" && ns0.count("cloud.test") == 2
	})
}

// Changing the DNS servers drops what the old ones answered.
func TestDNSCacheFollowsTheServers(t *testing.T) {
	c := startCtrl(t, 0)
	ns := startCountingDNS(t, 3600)
	d := newDev(t, func(o *Options) { o.DNSPort = ns.port })
	d.SetConfig(cloudCfg("cloud.test", c.Port), []netip.Addr{lo}, nil)
	d.waitState(t, "Established")
	// 127.0.0.2 listens nowhere on this port: the device asks it first, gets
	// no answer, then asks 127.0.0.1 again although its answer is fresh
	d.SetConfig(cloudCfg("cloud.test", c.Port), []netip.Addr{netip.MustParseAddr("127.0.0.2"), lo}, nil)
	d.Reset()
	waitFor(t, "a new query to the new server list", func() bool { return ns.count("cloud.test") == 2 })
	d.waitState(t, "Established")
}

// While the device connects to its primary, the backup's name is resolved
// beside it; when the primary is lost, the backup is reached without
// asking DNS again, and the primary's fresh answer is not asked for either.
func TestNextServerResolvedBesideTheAttempt(t *testing.T) {
	c1 := startCtrl(t, 0)
	c2 := startCtrl(t, 0)
	ns := startCountingDNS(t, 60)
	d := newDev(t, func(o *Options) { o.DNSPort = ns.port })
	d.SetConfig(cloudCfg("primary.test", c1.Port, config.Backup{Domain: "backup1.test", Port: c2.Port}),
		[]netip.Addr{lo}, nil)
	d.waitState(t, "Established")
	waitFor(t, "the backup's name resolved", func() bool { return ns.count("backup1.test") == 1 })
	c1.stop()
	waitFor(t, "down", func() bool { return d.state() != "Established" })
	for i := 0; d.Status().ServerDomain != "backup1.test" || d.state() != "Established"; i++ {
		if i == 10 {
			t.Fatalf("not Established on the backup: %+v", d.Status())
		}
		d.advance(t, time.Second) // the 0–1 s jitter
	}
	if p, b := ns.count("primary.test"), ns.count("backup1.test"); p != 1 || b != 1 {
		t.Fatalf("queries: primary %d, backup %d; want 1 each", p, b)
	}
}

// Lookups of one name that overlap share one query; a failed lookup is
// not kept, so the next asks again.
func TestDNSCacheSharesALookupInFlight(t *testing.T) {
	c := newDNSCache()
	now := func() time.Time { return t0 }
	release := make(chan struct{})
	var asked atomic.Int32
	ask := func(ctx context.Context) (netip.Addr, time.Duration, error) {
		asked.Add(1)
		<-release
		return lo, time.Minute, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := c.lookup(context.Background(), "s", "x.test", now, ask); err != nil || a != lo {
				t.Errorf("%v %v", a, err)
			}
		}()
	}
	waitFor(t, "a lookup in flight", func() bool { return c.has("s", "x.test", now) && asked.Load() == 1 })
	close(release)
	wg.Wait()
	if n := asked.Load(); n != 1 {
		t.Fatalf("%d queries for 5 overlapping lookups", n)
	}
	fail := func(ctx context.Context) (netip.Addr, time.Duration, error) {
		asked.Add(1)
		return netip.Addr{}, time.Minute, errors.New("NXDOMAIN")
	}
	for i := 0; i < 2; i++ {
		if _, err := c.lookup(context.Background(), "s", "y.test", now, fail); err == nil {
			t.Fatal("failure not passed on")
		}
	}
	if n := asked.Load(); n != 3 {
		t.Fatalf("a failed answer was kept: %d queries", n)
	}
}

// silentUpgrade answers auth and register like a controller, and then
// never answers the WebSocket upgrade.
func silentUpgrade(t *testing.T) int {
	t.Helper()
	dir, _ := testTLS(t)
	tc, err := controller.EnsureTLS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	held := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/cloud/v1/auth", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"result":"success","token":"tok","expires_in":300}`))
	})
	mux.HandleFunc("/cloud/v1/register", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"result":"success","main_url":"wss://cloud.test:` + strconv.Itoa(port) + `/cloud/v1/main/x"}`))
	})
	mux.HandleFunc("/cloud/v1/main/", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		<-held // never answered
		conn.Close()
	})
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	t.Cleanup(func() { close(held); hs.Close() })
	return port
}

// An upgrade the server never answers ends at the step's time-out, like
// every other step, instead of holding the attempt forever.
func TestUnansweredUpgradeTimesOut(t *testing.T) {
	port := silentUpgrade(t)
	d := newDev(t, nil)
	d.SetConfig(cloudCfg("cloud.test", port), nil, hosts("cloud.test"))
	d.settle(t, "Upgrading", 1)
	d.quiesce(t)
	d.clk.Advance(5 * time.Second)
	waitFor(t, "the upgrade's time-out", func() bool { return d.Status().FailureReason != "" })
	if s := d.Status(); s.FailureReason != "WebSocket upgrade failed (Details:timed out)" {
		t.Fatal(s.FailureReason)
	}
	d.waitWait(t)
}

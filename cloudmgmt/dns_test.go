package cloudmgmt

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netdevd/netdevd/internal/config"
)

// dnsServer answers A 127.0.0.1 for every name on UDP and TCP of one port;
// with truncate, UDP answers are truncated (the client must retry on TCP).
func dnsServer(t *testing.T, truncate bool) int {
	t.Helper()
	pc, ln := udpAndTCPOnOnePort(t)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	handler := func(tcp bool) dns.HandlerFunc {
		return func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			if truncate && !tcp {
				m.Truncated = true
			} else if strings.HasPrefix(r.Question[0].Name, "cloud.") {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name,
					Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
			} else {
				m.Rcode = dns.RcodeNameError
			}
			w.WriteMsg(m)
		}
	}
	us := &dns.Server{PacketConn: pc, Handler: handler(false)}
	ts := &dns.Server{Listener: ln, Handler: handler(true)}
	go us.ActivateAndServe()
	go ts.ActivateAndServe()
	t.Cleanup(func() { us.Shutdown(); ts.Shutdown() })
	return port
}

func TestResolver(t *testing.T) {
	for _, trunc := range []bool{false, true} {
		port := dnsServer(t, trunc)
		r := &resolver{servers: []netip.Addr{lo}, port: port, timeout: time.Second}
		a, err := r.resolve(context.Background(), "cloud.test")
		if err != nil || a != lo {
			t.Fatal(trunc, a, err)
		}
		if _, err := r.resolve(context.Background(), "nope.test"); err == nil || err.Error() != "NXDOMAIN from 127.0.0.1" {
			t.Fatal(err)
		}
	}
	// silent server: one timeout, then the next server answers
	silent, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer silent.Close()
	r := &resolver{servers: []netip.Addr{lo}, port: silent.LocalAddr().(*net.UDPAddr).Port, timeout: 100 * time.Millisecond}
	if _, err := r.resolve(context.Background(), "cloud.test"); err == nil || err.Error() != "no answer from 127.0.0.1" {
		t.Fatal(err)
	}
	// ip host first; literal addresses
	r.hosts = []config.IPHost{{Name: "cloud.test", Addr: netip.MustParseAddr("192.0.2.7")}}
	if a, _ := r.resolve(context.Background(), "cloud.test"); a.String() != "192.0.2.7" {
		t.Fatal(a)
	}
	if a, _ := r.resolve(context.Background(), "198.51.100.1"); a.String() != "198.51.100.1" {
		t.Fatal(a)
	}
}

func TestDNSThroughConfiguredServer(t *testing.T) {
	c := startCtrl(t, 0)
	port := dnsServer(t, true)
	d := newDev(t, func(o *Options) { o.DNSPort = port })
	d.SetConfig(cloudCfg("cloud.test", c.Port), []netip.Addr{lo}, nil)
	d.waitState(t, "Established")
	d.SetConfig(cloudCfg("nope.test", c.Port), []netip.Addr{lo}, nil)
	waitFor(t, "dns failure", func() bool { return d.Status().FailureReason != "" })
	if s := d.Status(); s.FailureReason != "DNS resolution failed (Details:NXDOMAIN from 127.0.0.1)" {
		t.Fatal(s.FailureReason)
	}
	// DHCP-learned servers are used too
	d2 := newDev(t, func(o *Options) { o.DNSPort = port; o.Serial = "SN1" })
	d2.SetDHCP("cloud.test", []netip.Addr{lo})
	d2.SetConfig(config.Cloud{ServerPort: c.Port, Keepalive: 180, Ping: 60}, nil, nil)
	d2.waitState(t, "Established")
}

// udpAndTCPOnOnePort listens on UDP and TCP with the same loopback port: a
// free UDP port may be taken on TCP, so it tries fresh ports (bounded).
func udpAndTCPOnOnePort(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for try := 0; try < 50; try++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no loopback port free on both UDP and TCP in 50 tries")
	return nil, nil
}

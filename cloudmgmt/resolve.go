package cloudmgmt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/netdevd/netdevd/internal/config"
)

// resolver resolves server domains the device way: a literal address, then
// `ip host`, then the configured DNS servers in order, then the DHCP-learned
// ones; only when there are none of either, the host's resolv.conf.
type resolver struct {
	hosts      []config.IPHost
	servers    []netip.Addr
	resolvConf string
	timeout    time.Duration
	port       int
}

func (c *Client) newResolver(g goal) *resolver {
	servers := append(append([]netip.Addr(nil), g.dns...), g.dhcpDNS...)
	return &resolver{hosts: g.hosts, servers: servers, resolvConf: c.o.ResolvConf,
		timeout: c.o.DNSTimeout, port: c.o.DNSPort}
}

// Resolve resolves name as the cloud connection resolves its server, with
// the goal in force now: `ip host`, the configured DNS servers, the
// DHCP-learned ones (ping and tracert use it).
func (c *Client) Resolve(ctx context.Context, name string) (netip.Addr, error) {
	return c.newResolver(c.snapshotGoal()).resolve(ctx, name)
}

// resolve returns the first IPv4 address of name (IPv6 if only that exists
// as a literal). Errors carry the Details text of the status line.
func (r *resolver) resolve(ctx context.Context, name string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a, nil
	}
	fqdn := strings.TrimSuffix(name, ".")
	for _, h := range r.hosts {
		if strings.EqualFold(h.Name, fqdn) {
			return h.Addr, nil
		}
	}
	var servers []string
	for _, s := range r.servers {
		servers = append(servers, net.JoinHostPort(s.String(), strconv.Itoa(r.port)))
	}
	if len(servers) == 0 {
		cc, err := dns.ClientConfigFromFile(r.resolvConf)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("no DNS server configured")
		}
		for _, s := range cc.Servers {
			servers = append(servers, net.JoinHostPort(s, cc.Port))
		}
		if len(servers) == 0 {
			return netip.Addr{}, fmt.Errorf("no DNS server configured")
		}
	}
	var details []string
	for _, srv := range servers {
		a, err := r.query(ctx, srv, dns.Fqdn(fqdn))
		if err == nil {
			return a, nil
		}
		if ctx.Err() != nil {
			return netip.Addr{}, ctx.Err()
		}
		details = append(details, err.Error())
	}
	return netip.Addr{}, errors.New(strings.Join(details, "; "))
}

func (r *resolver) query(ctx context.Context, srv, fqdn string) (netip.Addr, error) {
	host, _, _ := net.SplitHostPort(srv)
	m := new(dns.Msg)
	m.SetQuestion(fqdn, dns.TypeA)
	m.RecursionDesired = true
	cl := &dns.Client{Net: "udp", Timeout: r.timeout}
	qctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	in, _, err := cl.ExchangeContext(qctx, m, srv)
	if err == nil && in.Truncated {
		tcp := &dns.Client{Net: "tcp", Timeout: r.timeout}
		tctx, tcancel := context.WithTimeout(ctx, r.timeout)
		in, _, err = tcp.ExchangeContext(tctx, m, srv)
		tcancel()
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return netip.Addr{}, fmt.Errorf("no answer from %s", host)
		}
		return netip.Addr{}, fmt.Errorf("no answer from %s: %s", host, shortErr(err))
	}
	if in.Rcode != dns.RcodeSuccess {
		return netip.Addr{}, fmt.Errorf("%s from %s", dns.RcodeToString[in.Rcode], host)
	}
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			if addr, ok := netip.AddrFromSlice(a.A.To4()); ok {
				return addr, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("no address for %s from %s", strings.TrimSuffix(fqdn, "."), host)
}

// shortErr strips the Go operation prefix from network errors
// ("dial tcp 127.0.0.1:1: connect: connection refused" → "connection refused").
func shortErr(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s, "connect") {
		s = s[i+2:]
	}
	return s
}

package cloudmgmt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/netdevd/netdevd/internal/config"
)

// resolver resolves server domains the device way: a literal address, then
// `ip host`, then the configured DNS servers in order, then the DHCP-learned
// ones; only when there are none of either, the host's resolv.conf. Answers
// are kept for their TTL in the client's cache, shared by every attempt.
type resolver struct {
	hosts      []config.IPHost
	servers    []netip.Addr
	resolvConf string
	timeout    time.Duration
	port       int
	cache      *dnsCache
	now        func() time.Time
}

func (c *Client) newResolver(g goal) *resolver {
	servers := append(append([]netip.Addr(nil), g.dns...), g.dhcpDNS...)
	return &resolver{hosts: g.hosts, servers: servers, resolvConf: c.o.ResolvConf,
		timeout: c.o.DNSTimeout, port: c.o.DNSPort, cache: c.dns, now: c.clk.Now}
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
	a, fqdn, ok := r.local(name)
	if ok {
		return a, nil
	}
	servers, err := r.serverAddrs()
	if err != nil {
		return netip.Addr{}, err
	}
	return r.cache.lookup(ctx, strings.Join(servers, ","), fqdn, r.now, func(ctx context.Context) (netip.Addr, time.Duration, error) {
		return r.ask(ctx, servers, fqdn)
	})
}

// local answers a literal address or an `ip host` name; otherwise it
// returns the name to ask DNS for, in lower case without the trailing dot.
func (r *resolver) local(name string) (netip.Addr, string, bool) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a, "", true
	}
	fqdn := strings.TrimSuffix(name, ".")
	for _, h := range r.hosts {
		if strings.EqualFold(h.Name, fqdn) {
			return h.Addr, "", true
		}
	}
	return netip.Addr{}, strings.ToLower(fqdn), false
}

// serverAddrs is the DNS servers to ask, host:port, in order.
func (r *resolver) serverAddrs() ([]string, error) {
	var servers []string
	for _, s := range r.servers {
		servers = append(servers, net.JoinHostPort(s.String(), strconv.Itoa(r.port)))
	}
	if len(servers) > 0 {
		return servers, nil
	}
	cc, err := dns.ClientConfigFromFile(r.resolvConf)
	if err != nil {
		return nil, fmt.Errorf("no DNS server configured")
	}
	for _, s := range cc.Servers {
		servers = append(servers, net.JoinHostPort(s, cc.Port))
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("no DNS server configured")
	}
	return servers, nil
}

// ask asks the servers in turn; the first answer wins, with its TTL.
func (r *resolver) ask(ctx context.Context, servers []string, fqdn string) (netip.Addr, time.Duration, error) {
	var details []string
	for _, srv := range servers {
		a, ttl, err := r.query(ctx, srv, dns.Fqdn(fqdn))
		if err == nil {
			return a, ttl, nil
		}
		if ctx.Err() != nil {
			return netip.Addr{}, 0, ctx.Err()
		}
		details = append(details, err.Error())
	}
	return netip.Addr{}, 0, errors.New(strings.Join(details, "; "))
}

// lookAhead starts resolving name in the background when it is neither
// local, fresh in the cache nor being resolved already, so that its answer
// is ready when an attempt needs it. The lookup is bounded by the DNS
// time-outs and by ctx; wg owns it.
func (r *resolver) lookAhead(ctx context.Context, wg *sync.WaitGroup, name string) {
	_, fqdn, ok := r.local(name)
	if ok {
		return
	}
	servers, err := r.serverAddrs()
	if err != nil || r.cache.has(strings.Join(servers, ","), fqdn, r.now) {
		return
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.resolve(ctx, name) }()
}

// maxDNSCacheTTL bounds how long an answer is kept, whatever its TTL.
const maxDNSCacheTTL = time.Hour

// dnsCache keeps the answers of one client for their TTL (capped at
// maxDNSCacheTTL; TTL 0 is not kept), and lets everyone who asks for a name
// while it is being resolved wait for that one lookup instead of asking
// again. Answers are kept per set of DNS servers: a change of servers
// starts afresh. Failures are not kept.
type dnsCache struct {
	mu      sync.Mutex
	servers string
	entries map[string]*dnsEntry
}

type dnsEntry struct {
	done    chan struct{} // closed when the lookup has ended
	addr    netip.Addr
	err     error
	expires time.Time
}

func newDNSCache() *dnsCache { return &dnsCache{entries: map[string]*dnsEntry{}} }

// find returns the entry for name: fresh = an answer to use now; an entry
// that is not fresh is a lookup in flight; nil = nothing usable.
func (c *dnsCache) find(servers, name string, now func() time.Time) (e *dnsEntry, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.servers != servers {
		c.servers, c.entries = servers, map[string]*dnsEntry{}
	}
	e = c.entries[name]
	if e == nil {
		return nil, false
	}
	select {
	case <-e.done:
		if e.err == nil && now().Before(e.expires) {
			return e, true
		}
		delete(c.entries, name)
		return nil, false
	default:
		return e, false
	}
}

// has says whether name is fresh or being resolved.
func (c *dnsCache) has(servers, name string, now func() time.Time) bool {
	if c == nil {
		return false
	}
	e, _ := c.find(servers, name, now)
	return e != nil
}

// lookup answers name from the cache, from the lookup in flight, or by
// running ask (and keeping its answer for the TTL it gives). A nil cache
// always asks.
func (c *dnsCache) lookup(ctx context.Context, servers, name string, now func() time.Time,
	ask func(context.Context) (netip.Addr, time.Duration, error)) (netip.Addr, error) {
	if c == nil {
		a, _, err := ask(ctx)
		return a, err
	}
	e, fresh := c.find(servers, name, now)
	if fresh {
		return e.addr, nil
	}
	if e != nil {
		select {
		case <-e.done:
			if e.err == nil {
				return e.addr, nil
			}
			// that lookup failed (its context may have ended): ask anew
		case <-ctx.Done():
			return netip.Addr{}, ctx.Err()
		}
	}
	e = &dnsEntry{done: make(chan struct{})}
	c.mu.Lock()
	if c.servers == servers {
		c.entries[name] = e
	}
	c.mu.Unlock()
	addr, ttl, err := ask(ctx)
	e.addr, e.err, e.expires = addr, err, now().Add(min(ttl, maxDNSCacheTTL))
	close(e.done)
	if err != nil || ttl <= 0 {
		c.mu.Lock()
		if c.entries[name] == e {
			delete(c.entries, name)
		}
		c.mu.Unlock()
	}
	return addr, err
}

// query asks srv for the A record of fqdn: the first address and the
// smallest TTL of the answer (a CNAME's included).
func (r *resolver) query(ctx context.Context, srv, fqdn string) (netip.Addr, time.Duration, error) {
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
			return netip.Addr{}, 0, fmt.Errorf("no answer from %s", host)
		}
		return netip.Addr{}, 0, fmt.Errorf("no answer from %s: %s", host, shortErr(err))
	}
	if in.Rcode != dns.RcodeSuccess {
		return netip.Addr{}, 0, fmt.Errorf("%s from %s", dns.RcodeToString[in.Rcode], host)
	}
	ttl := uint32(math.MaxUint32)
	for _, rr := range in.Answer {
		ttl = min(ttl, rr.Header().Ttl)
	}
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			if addr, ok := netip.AddrFromSlice(a.A.To4()); ok {
				return addr, time.Duration(ttl) * time.Second, nil
			}
		}
	}
	return netip.Addr{}, 0, fmt.Errorf("no address for %s from %s", strings.TrimSuffix(fqdn, "."), host)
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

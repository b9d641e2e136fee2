package cloudmgmt

import (
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// server is one entry of the effective server list.
type server struct {
	Domain string
	Port   int
	Source string // dhcp, manual, backup
}

// serverList is the effective list (cloud-management.md "Which server,
// when"): the DHCP-learned domain, then the manual domain if different, then
// the backups in configured order, each with its own port or the server
// port. A domain appears once (first occurrence wins; our choice), names
// compared the DNS way (sameDomain).
func serverList(g goal) []server {
	port := g.cloud.ServerPort
	if port <= 0 {
		port = config.DefaultCloudPort
	}
	var out []server
	seen := map[string]bool{}
	add := func(d string, p int, src string) {
		if d == "" || seen[domainKey(d)] {
			return
		}
		seen[domainKey(d)] = true
		out = append(out, server{Domain: d, Port: p, Source: src})
	}
	add(g.dhcpDomain, port, "dhcp")
	add(g.cloud.ServerDomain, port, "manual")
	for _, b := range g.cloud.Backups {
		p := b.Port
		if p <= 0 {
			p = port
		}
		add(b.Domain, p, "backup")
	}
	return out
}

func indexOf(list []server, domain string) int {
	for i, s := range list {
		if sameDomain(s.Domain, domain) {
			return i
		}
	}
	return -1
}

// domainKey is a name as DNS compares it: case-insensitively, a trailing
// dot ignored (cloud-management.md, "Which server, when").
func domainKey(d string) string { return strings.ToLower(strings.TrimSuffix(d, ".")) }

// sameDomain reports whether a and b name the same host. The DHCP-learned,
// manual and current domains are compared this way everywhere: a DHCP server
// that changes only the case or the final dot does not change the server.
func sameDomain(a, b string) bool { return domainKey(a) == domainKey(b) }

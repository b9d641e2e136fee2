package cloudmgmt

import (
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
// port. A domain appears once (first occurrence wins; our choice).
func serverList(g goal) []server {
	port := g.cloud.ServerPort
	if port <= 0 {
		port = config.DefaultCloudPort
	}
	var out []server
	seen := map[string]bool{}
	add := func(d string, p int, src string) {
		if d == "" || seen[d] {
			return
		}
		seen[d] = true
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
		if s.Domain == domain {
			return i
		}
	}
	return -1
}

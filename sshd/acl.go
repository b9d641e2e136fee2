package sshd

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// `ssh server acl N`: which sources may open SSH connections. Checked in
// the accept loop, before the version exchange, like the other refusals
// (README.md "Defence"). Comware's rules (Security Command Reference,
// `ssh server acl`): only the clients the ACL permits get in; when the ACL
// does not exist or has no rules, every client gets in. A client that no
// rule matches is refused. Rules match in ascending ID order, first match
// wins. The ACL is an IPv4 basic ACL: IPv6 clients are not filtered by it
// (Comware has `ssh server ipv6 acl` for them, which netdevd lacks).

// aclFilter holds the match counters (`display acl`) and the rate limit of
// the SSHS_ACL_DENY log line.
type aclFilter struct {
	mu       sync.Mutex
	hits     map[aclHitKey]uint64
	logs     map[string]*aclLogState // by source address
	overflow aclLogState             // sources beyond maxSources share one line
	refused  uint64
}

// aclHitKey is a rule as it is: a rule edited since counts from zero.
type aclHitKey struct {
	acl  int
	rule config.ACLRule
}

type aclLogState struct {
	last time.Time // last log line
	n    int       // refusals since
}

// maxACLHits bounds the counter table; past it, counters of rules no longer
// in the configuration are dropped.
const maxACLHits = 4 * config.MaxACLRules

// aclVerdict decides for a client at addr. acl is the ACL consulted (0:
// none); matched tells whether a rule matched (rule is that rule).
func aclVerdict(cfg config.Config, addr netip.Addr) (permit bool, acl int, rule config.ACLRule, matched bool) {
	n := cfg.SSH.ACL
	if n == 0 {
		return true, 0, config.ACLRule{}, false
	}
	a, ok := cfg.ACL(n)
	if !ok || len(a.Rules) == 0 {
		return true, n, config.ACLRule{}, false
	}
	addr = addr.Unmap()
	if !addr.Is4() {
		return true, n, config.ACLRule{}, false
	}
	r, ok := a.Match(addr)
	if !ok {
		return false, n, config.ACLRule{}, false
	}
	return r.Permit, n, r, true
}

// aclAdmit applies `ssh server acl` to a freshly accepted connection: false
// means close it now. It counts the rule matched and logs refusals.
func (s *Server) aclAdmit(conn net.Conn, cfg config.Config) bool {
	if cfg.SSH.ACL == 0 {
		return true
	}
	src := sourceOf(conn.RemoteAddr())
	addr, err := netip.ParseAddr(src)
	if err != nil {
		return true
	}
	permit, n, rule, matched := aclVerdict(cfg, addr)
	f := &s.acl
	f.mu.Lock()
	if matched {
		if f.hits == nil {
			f.hits = map[aclHitKey]uint64{}
		}
		if len(f.hits) >= maxACLHits {
			f.pruneLocked(cfg)
		}
		f.hits[aclHitKey{n, rule}]++
	}
	var msg string
	if !permit {
		f.refused++
		msg = f.denyLocked(s.clk.Now(), src, n)
	}
	f.mu.Unlock()
	if msg != "" {
		s.log.Log("SSHS", logbuf.Notification, "SSHS_ACL_DENY", msg)
	}
	return permit
}

// denyLocked counts a refusal from src and returns the log line to write,
// if any: the first refusal at once, then at most one line per source per
// minute with the number of refusals since the last line.
func (f *aclFilter) denyLocked(now time.Time, src string, n int) string {
	if f.logs == nil {
		f.logs = map[string]*aclLogState{}
	}
	st := f.logs[src]
	shared := false
	if st == nil {
		if len(f.logs) >= maxSources {
			for k, old := range f.logs {
				if now.Sub(old.last) >= logEvery {
					delete(f.logs, k)
				}
			}
		}
		if len(f.logs) >= maxSources {
			st, shared = &f.overflow, true
		} else {
			st = &aclLogState{}
			f.logs[src] = st
		}
	}
	st.n++
	if !st.last.IsZero() && now.Sub(st.last) < logEvery {
		return ""
	}
	count := st.n
	st.last, st.n = now, 0
	switch {
	case shared:
		return fmt.Sprintf("SSH clients were denied by ACL %d: %d connection(s), the last from %s.", n, count, src)
	case count == 1:
		return fmt.Sprintf("SSH client %s was denied by ACL %d.", src, n)
	}
	return fmt.Sprintf("SSH client %s was denied by ACL %d (%d connections since the last report).", src, n, count)
}

// pruneLocked drops the counters of rules that are no longer configured.
func (f *aclFilter) pruneLocked(cfg config.Config) {
	for k := range f.hits {
		keep := false
		if a, ok := cfg.ACL(k.acl); ok {
			for _, r := range a.Rules {
				if r == k.rule {
					keep = true
					break
				}
			}
		}
		if !keep {
			delete(f.hits, k)
		}
	}
}

// ACLMatches is how many connections each ACL rule has matched since the
// server started (`display acl`).
func (s *Server) ACLMatches() []device.ACLMatch {
	s.acl.mu.Lock()
	defer s.acl.mu.Unlock()
	out := make([]device.ACLMatch, 0, len(s.acl.hits))
	for k, c := range s.acl.hits {
		out = append(out, device.ACLMatch{ACL: k.acl, Rule: k.rule, Count: c})
	}
	return out
}

// RefusedByACL is the number of connections `ssh server acl` refused.
func (s *Server) RefusedByACL() uint64 {
	s.acl.mu.Lock()
	defer s.acl.mu.Unlock()
	return s.acl.refused
}

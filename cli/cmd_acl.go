package cli

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// IPv4 basic ACLs and `ssh server acl` (Comware's trusted management
// sources):
//
//	acl { basic | number } NUMBER          system view, enters [S-acl-ipv4-basic-NUMBER]
//	undo acl { basic | number } NUMBER
//	rule [ ID ] { permit | deny } [ source { ADDR { WILDCARD | 0 } | any } ]
//	undo rule ID                           ACL view
//	ssh server acl NUMBER / undo ssh server acl
//	display acl { all | NUMBER }           any view
//
// Rules match in ascending ID order, first match wins. Used by the SSH
// server: a client is let in when the ACL permits it; a client no rule
// matches is refused; an ACL that does not exist or has no rules lets
// everyone in (Comware `ssh server acl` usage guidelines).

var (
	aclNumberValue = intRange(config.ACLBasicMin, config.ACLBasicMax)
	aclRuleIDValue = intRange(0, config.ACLRuleMax)
	// Any dotted quad (0.0.0.0 and 255.255.255.255 included): addresses and
	// wildcards of ACL rules, unlike ipv4Addr which takes unicast only.
	aclAddrValue = &valueSpec{label: "X.X.X.X", min: 7, max: 15, check: dottedQuad}
)

func dottedQuad(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func aclPrompt(sysname string, n int) string {
	return "[" + sysname + "-acl-ipv4-basic-" + strconv.Itoa(n) + "]"
}

// aclCommand is `acl { basic | number } NUMBER` (h = runACL) or its undo form.
func aclCommand(h handler) *node {
	number := func() *node { return val("acl", aclNumberValue, "Specify a basic ACL number").does(h) }
	return kw("acl", "Specify an ACL",
		kw("basic", "Specify an IPv4 basic ACL", number()),
		kw("number", "Specify a numbered ACL", number()))
}

// sshServerACL is `ssh server acl NUMBER` (set) or `undo ssh server acl`.
func sshServerACL(set bool) *node {
	const help = "Specify an ACL to control SSH client access"
	if !set {
		return kw("acl", help).does(runUndoSSHACL)
	}
	return kw("acl", help, val("acl", aclNumberValue, "Specify a basic ACL number").does(runSSHACL))
}

func displayACL(leaf func(*node, handler) *node) *node {
	return kw("acl", "ACL configuration and status",
		leaf(kw("all", "Display all ACLs"), runDisplayACL),
		leaf(val("acl", aclNumberValue, "Specify a basic ACL number"), runDisplayACL))
}

func aclViewCommands() []*node {
	action := func() []*node {
		source := kw("source", "Specify a source address",
			(&node{keyword: "any", name: "any", help: "Any source IP address"}).does(runRule),
			val("srcaddr", aclAddrValue, "Source IP address",
				(&node{keyword: "0", name: "wildcard", help: "Wildcard bits : 0.0.0.0 ( a host )"}).does(runRule),
				val("wildcard", aclAddrValue, "Wildcard of source").does(runRule)))
		return []*node{
			(&node{keyword: "deny", name: "action", help: "Specify matched packets to deny", next: []*node{source}}).does(runRule),
			(&node{keyword: "permit", name: "action", help: "Specify matched packets to permit", next: []*node{source}}).does(runRule),
		}
	}
	return []*node{
		kw("rule", "Specify an ACL rule",
			append(action(), val("id", aclRuleIDValue, "ID of the ACL rule", action()...))...),
		kw("undo", "Cancel current setting",
			kw("rule", "Specify an ACL rule",
				val("id", aclRuleIDValue, "ID of the ACL rule").does(runUndoRule))),
	}
}

// runACL creates the ACL if needed and enters its view.
func runACL(e *invocation) error {
	n := e.number("acl")
	if err := e.update(func(c *config.Config) error {
		c.AddACL(n)
		return nil
	}); err != nil {
		return err
	}
	e.s.view = view{kind: viewACL, acl: n}
	return nil
}

func runUndoACL(e *invocation) error {
	n := e.number("acl")
	return e.update(func(c *config.Config) error {
		c.RemoveACL(n)
		return nil
	})
}

var runSSHACL = setter(func(e *invocation, c *config.Config) { c.SSH.ACL = e.number("acl") })

var runUndoSSHACL = setter(func(e *invocation, c *config.Config) { c.SSH.ACL = 0 })

// runRule creates or edits a rule. With an ID of an existing rule the
// settings typed replace theirs and the others stay (Comware: `rule 0 deny`
// keeps rule 0's source). Without an ID the rule gets the next multiple of
// the step above the highest ID. Two rules with the same statement are
// refused, as on Comware.
func runRule(e *invocation) error {
	n := e.s.view.acl
	permit := e.arg("action") == "permit"
	hasID, id := e.has("id"), e.number("id")
	sourceTyped := e.has("srcaddr") || e.has("any")
	var src, wild netip.Addr
	if e.has("srcaddr") {
		addr, _ := netip.ParseAddr(e.arg("srcaddr"))
		wild = netip.AddrFrom4([4]byte{})
		if w := e.arg("wildcard"); w != "0" {
			wild, _ = netip.ParseAddr(w)
		}
		src = config.NormalizeSource(addr, wild)
	}
	return e.update(func(c *config.Config) error {
		a, ok := c.ACL(n)
		if !ok {
			return failure(fmt.Sprintf("ACL %d does not exist.", n))
		}
		r := config.ACLRule{Permit: permit, Source: src, Wildcard: wild}
		exists := false
		if hasID {
			r.ID = id
			for _, old := range a.Rules {
				if old.ID == id {
					exists = true
					if !sourceTyped {
						r.Source, r.Wildcard = old.Source, old.Wildcard
					}
				}
			}
		} else {
			next, ok := a.NextRuleID()
			if !ok {
				return failure("The rule ID exceeds the upper limit. Specify a rule ID.")
			}
			r.ID = next
		}
		for _, old := range a.Rules {
			if old.ID != r.ID && old.SameStatement(r) {
				return failure("The rule already exists.")
			}
		}
		if !exists && len(a.Rules) >= config.MaxACLRules {
			return failure(fmt.Sprintf("The number of rules in ACL %d reached the upper limit (%d).", n, config.MaxACLRules))
		}
		a.SetRule(r)
		return nil
	})
}

func runUndoRule(e *invocation) error {
	n, id := e.s.view.acl, e.number("id")
	return e.update(func(c *config.Config) error {
		a, ok := c.ACL(n)
		if !ok {
			return failure(fmt.Sprintf("ACL %d does not exist.", n))
		}
		a.RemoveRule(id)
		return nil
	})
}

// ruleText is a rule as the configuration and `display acl` show it:
// `rule 0 permit source 10.1.1.0 0.0.0.255`, `rule 5 deny`, a host as
// `source 1.1.1.1 0`.
func ruleText(r config.ACLRule) string {
	action := "deny"
	if r.Permit {
		action = "permit"
	}
	s := fmt.Sprintf("rule %d %s", r.ID, action)
	if !r.Any() {
		w := r.Wildcard.String()
		if r.Wildcard == netip.AddrFrom4([4]byte{}) {
			w = "0"
		}
		s += " source " + r.Source.String() + " " + w
	}
	return s
}

// aclBlock is one ACL's configuration block (always shown: the ACL exists).
func aclBlock(a config.ACL) []string {
	children := make([]string, 0, len(a.Rules))
	for _, r := range a.Rules {
		children = append(children, " "+ruleText(r))
	}
	return block("acl basic "+strconv.Itoa(a.Number), children, true)
}

// aclBlocks is one section per ACL, in number order.
func aclBlocks(cfg config.Config) [][]string {
	var out [][]string
	for _, a := range cfg.ACLs {
		out = append(out, aclBlock(a))
	}
	return out
}

// aclViewBlock is `display this` in an ACL view.
func aclViewBlock(cfg config.Config, n int) []string {
	if a, ok := cfg.ACL(n); ok {
		return aclBlock(*a)
	}
	return aclBlock(config.ACL{Number: n})
}

// runDisplayACL prints
//
//	Basic IPv4 ACL 2000, 2 rules,
//	ACL's step is 5
//	 rule 0 permit source 10.1.1.0 0.0.0.255 (3 times matched)
//	 rule 5 deny
//
// the count shown only when the rule has matched (Comware's layout).
func runDisplayACL(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	var acls []config.ACL
	if e.has("acl") {
		n := e.number("acl")
		a, ok := cfg.ACL(n)
		if !ok {
			return failure(fmt.Sprintf("ACL %d does not exist.", n))
		}
		acls = []config.ACL{*a}
	} else {
		acls = cfg.ACLs
	}
	counts := map[int]map[config.ACLRule]uint64{}
	if len(acls) > 0 {
		if ms, err := e.s.dev.ACLMatches(e.ctx); err == nil {
			for _, m := range ms {
				if counts[m.ACL] == nil {
					counts[m.ACL] = map[config.ACLRule]uint64{}
				}
				counts[m.ACL][m.Rule] += m.Count
			}
		}
	}
	var b strings.Builder
	for i, a := range acls {
		if i > 0 {
			b.WriteString("\n")
		}
		plural := "s"
		if len(a.Rules) == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "Basic IPv4 ACL %d, %d rule%s,\nACL's step is %d\n", a.Number, len(a.Rules), plural, config.ACLStep)
		for _, r := range a.Rules {
			b.WriteString(" " + ruleText(r))
			if c := counts[a.Number][r]; c > 0 {
				fmt.Fprintf(&b, " (%d times matched)", c)
			}
			b.WriteString("\n")
		}
	}
	e.out.WriteString(b.String())
	return nil
}

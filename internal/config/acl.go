package config

import (
	"fmt"
	"net/netip"
	"slices"
)

// IPv4 basic ACLs (`acl basic 2000`) and their use by the SSH server
// (`ssh server acl 2000`).
const (
	ACLBasicMin = 2000  // IPv4 basic ACL numbers, as on Comware
	ACLBasicMax = 2999  //
	ACLRuleMax  = 65534 // rule IDs 0-65534
	ACLStep     = 5     // Comware's default rule numbering step
	MaxACLRules = 1024  // ours: keeps the configuration bounded
)

// ACL is one numbered IPv4 basic ACL. Rules are kept in ascending ID order,
// which is the match order (Comware's default match-order config).
type ACL struct {
	Number int
	Rules  []ACLRule
}

// ACLRule is `rule ID { permit | deny } [ source ADDR WILDCARD ]`.
// Source and Wildcard are both invalid (zero) for `source any` / no source.
// The wildcard is an inverted mask (0.0.0.255 = a /24); any bits, not only
// contiguous ones, as Comware accepts. Source has the wildcard bits cleared.
type ACLRule struct {
	ID       int
	Permit   bool
	Source   netip.Addr
	Wildcard netip.Addr
}

// Any reports whether the rule matches every source.
func (r ACLRule) Any() bool { return !r.Source.IsValid() }

// Matches reports whether addr (IPv4) is in the rule's source.
func (r ACLRule) Matches(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.Is4() {
		return false
	}
	if r.Any() {
		return true
	}
	a, s, w := addr.As4(), r.Source.As4(), r.Wildcard.As4()
	for i := range a {
		if a[i]&^w[i] != s[i]&^w[i] {
			return false
		}
	}
	return true
}

// SameStatement reports whether r and o permit/deny the same sources
// (Comware refuses two rules with the same statement in one ACL).
func (r ACLRule) SameStatement(o ACLRule) bool {
	return r.Permit == o.Permit && r.Source == o.Source && r.Wildcard == o.Wildcard
}

// NormalizeSource clears the wildcard bits of addr (Comware stores
// `10.1.1.5 0.0.0.255` as `10.1.1.0 0.0.0.255`).
func NormalizeSource(addr, wildcard netip.Addr) netip.Addr {
	a, w := addr.As4(), wildcard.As4()
	for i := range a {
		a[i] &^= w[i]
	}
	return netip.AddrFrom4(a)
}

// Match returns the first rule (ascending ID) matching addr.
func (a ACL) Match(addr netip.Addr) (ACLRule, bool) {
	for _, r := range a.Rules {
		if r.Matches(addr) {
			return r, true
		}
	}
	return ACLRule{}, false
}

// NextRuleID is the ID Comware gives a rule typed without one: the
// smallest multiple of the step greater than the highest ID (0 for the
// first rule); false when that would pass ACLRuleMax.
func (a ACL) NextRuleID() (int, bool) {
	if len(a.Rules) == 0 {
		return 0, true
	}
	next := (a.Rules[len(a.Rules)-1].ID/ACLStep + 1) * ACLStep
	return next, next <= ACLRuleMax
}

// ACL returns the ACL numbered n.
func (c *Config) ACL(n int) (*ACL, bool) {
	for i := range c.ACLs {
		if c.ACLs[i].Number == n {
			return &c.ACLs[i], true
		}
	}
	return nil, false
}

// SetRule adds r to the ACL or replaces the rule with its ID, keeping the
// rules in ID order.
func (a *ACL) SetRule(r ACLRule) {
	i, found := slices.BinarySearchFunc(a.Rules, r.ID, func(x ACLRule, id int) int { return x.ID - id })
	if found {
		a.Rules[i] = r
		return
	}
	a.Rules = slices.Insert(a.Rules, i, r)
}

// RemoveRule removes the rule with this ID, if any.
func (a *ACL) RemoveRule(id int) {
	a.Rules = slices.DeleteFunc(a.Rules, func(r ACLRule) bool { return r.ID == id })
}

// AddACL creates ACL n (kept in number order) if it does not exist and
// returns it.
func (c *Config) AddACL(n int) *ACL {
	i, found := slices.BinarySearchFunc(c.ACLs, n, func(x ACL, n int) int { return x.Number - n })
	if !found {
		c.ACLs = slices.Insert(c.ACLs, i, ACL{Number: n})
	}
	return &c.ACLs[i]
}

// RemoveACL deletes ACL n, if any. `ssh server acl n` stays (Comware keeps
// the reference; a missing ACL permits everyone).
func (c *Config) RemoveACL(n int) {
	c.ACLs = slices.DeleteFunc(c.ACLs, func(a ACL) bool { return a.Number == n })
}

func cloneACLs(acls []ACL) []ACL {
	if acls == nil {
		return nil
	}
	out := make([]ACL, len(acls))
	for i, a := range acls {
		a.Rules = slices.Clone(a.Rules)
		out[i] = a
	}
	return out
}

// validateACLs checks numbers, rule IDs and order, and the SSH reference.
func (c Config) validateACLs() error {
	if c.SSH.ACL != 0 && (c.SSH.ACL < ACLBasicMin || c.SSH.ACL > ACLBasicMax) {
		return fmt.Errorf("ssh server acl %d out of %d-%d", c.SSH.ACL, ACLBasicMin, ACLBasicMax)
	}
	for i, a := range c.ACLs {
		if a.Number < ACLBasicMin || a.Number > ACLBasicMax {
			return fmt.Errorf("acl %d out of %d-%d", a.Number, ACLBasicMin, ACLBasicMax)
		}
		if i > 0 && c.ACLs[i-1].Number >= a.Number {
			return fmt.Errorf("acls not in ascending number order at %d", a.Number)
		}
		if len(a.Rules) > MaxACLRules {
			return fmt.Errorf("acl %d has %d rules, at most %d", a.Number, len(a.Rules), MaxACLRules)
		}
		for j, r := range a.Rules {
			if r.ID < 0 || r.ID > ACLRuleMax {
				return fmt.Errorf("acl %d rule %d out of 0-%d", a.Number, r.ID, ACLRuleMax)
			}
			if j > 0 && a.Rules[j-1].ID >= r.ID {
				return fmt.Errorf("acl %d rules not in ascending order at %d", a.Number, r.ID)
			}
			if r.Source.IsValid() != r.Wildcard.IsValid() ||
				r.Source.IsValid() && (!r.Source.Is4() || !r.Wildcard.Is4() || NormalizeSource(r.Source, r.Wildcard) != r.Source) {
				return fmt.Errorf("acl %d rule %d: bad source %v %v", a.Number, r.ID, r.Source, r.Wildcard)
			}
		}
	}
	return nil
}

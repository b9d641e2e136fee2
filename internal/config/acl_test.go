package config

import (
	"net/netip"
	"testing"
)

func TestACLRulesAndValidate(t *testing.T) {
	c := Default()
	a := c.AddACL(2001)
	if id, ok := a.NextRuleID(); !ok || id != 0 {
		t.Fatalf("first id %d", id)
	}
	a.SetRule(ACLRule{ID: 7, Permit: true})
	if id, _ := a.NextRuleID(); id != 10 {
		t.Fatalf("after 7: %d", id)
	}
	a.SetRule(ACLRule{ID: 3})
	if a.Rules[0].ID != 3 || a.Rules[1].ID != 7 {
		t.Fatalf("order %+v", a.Rules)
	}
	a.SetRule(ACLRule{ID: 65534})
	if _, ok := a.NextRuleID(); ok {
		t.Fatal("id past 65534")
	}
	c.AddACL(2000)
	if c.ACLs[0].Number != 2000 || c.ACLs[1].Number != 2001 {
		t.Fatalf("acl order %+v", c.ACLs)
	}
	c.SSH.ACL = 2999
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Clone is deep.
	d := c.Clone()
	d.ACLs[1].Rules[0].Permit = true
	if c.ACLs[1].Rules[0].Permit {
		t.Fatal("clone shares rules")
	}
	for name, bad := range map[string]func(*Config){
		"ssh acl range": func(c *Config) { c.SSH.ACL = 3000 },
		"acl range":     func(c *Config) { c.ACLs[0].Number = 1999 },
		"acl order":     func(c *Config) { c.ACLs[0].Number = 2001 },
		"rule order":    func(c *Config) { c.ACLs[1].Rules[0].ID = 9 },
		"rule range":    func(c *Config) { c.ACLs[1].Rules[2].ID = 65535 },
		"half source":   func(c *Config) { c.ACLs[1].Rules[0].Source = netip.MustParseAddr("10.0.0.0") },
		"unnormalized": func(c *Config) {
			c.ACLs[1].Rules[0].Source = netip.MustParseAddr("10.0.0.5")
			c.ACLs[1].Rules[0].Wildcard = netip.MustParseAddr("0.0.0.255")
		},
	} {
		x := c.Clone()
		bad(&x)
		if x.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c.RemoveACL(2001)
	if _, ok := c.ACL(2001); ok || len(c.ACLs) != 1 {
		t.Fatal("remove")
	}
}

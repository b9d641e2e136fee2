package cloudmgmt

import (
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

// TestDomainsCompareAsDNS: the DHCP-learned, manual and current domains
// compare case-insensitively with a trailing dot ignored (issue 11: DHCP
// sending CTL2.SITE.EXAMPLE. then ctl2.site.example. tore the connection
// down as "domain changed").
func TestDomainsCompareAsDNS(t *testing.T) {
	c := startCtrl(t, 0)
	d := newDev(t, nil)
	d.SetDHCP("DHCP.TEST.", nil)
	d.SetConfig(cloudCfg("", c.Port), nil, hosts("dhcp.test", "manual.test"))
	d.waitState(t, "Established")
	waitFor(t, "a stable connection", d.connStable)
	sessions := func() int { return c.Devices()[0].Sessions }
	n := sessions()
	keeps := func(what string) {
		t.Helper()
		d.quiesce(t)
		if s := d.Status(); s.ConnState != "Established" || sessions() != n || s.LastDownReason != "" {
			t.Fatalf("%s dropped the connection: %s, %d sessions, down %q", what, s.ConnState, sessions(), s.LastDownReason)
		}
	}
	d.SetDHCP("dhcp.test.", nil)
	keeps("DHCP: the same name in lower case")
	d.SetDHCP("Dhcp.Test", nil)
	keeps("DHCP: the same name without the dot")
	// the manual domain is the DHCP one spelt differently: one server
	d.SetConfig(cloudCfg("dhcp.TEST.", c.Port), nil, hosts("dhcp.test", "manual.test"))
	keeps("a manual domain equal to the DHCP one")
	if l := serverList(d.snapshotGoal()); len(l) != 1 {
		t.Fatalf("effective list %+v: one server twice", l)
	}
	// a different name still moves (the control case)
	d.SetDHCP("manual.test", nil)
	waitFor(t, "on manual.test", func() bool {
		s := d.Status()
		return s.ConnState == "Established" && s.ServerDomain == "manual.test"
	})
	if s := d.Status(); s.LastDownReason != "domain changed (Details:DHCP domain manual.test)" {
		t.Fatalf("down %q", s.LastDownReason)
	}
}

// TestManualThenDHCPSameNameKeeps: connected through the manual domain,
// DHCP supplies the same name in other case with a final dot: keep.
func TestManualThenDHCPSameNameKeeps(t *testing.T) {
	c := startCtrl(t, 0)
	d := establish(t, c, nil, func(cc *config.Cloud) { cc.ServerDomain = "manual.test" })
	n := c.Devices()[0].Sessions
	d.SetDHCP("MANUAL.TEST.", nil)
	d.quiesce(t)
	if s := d.Status(); s.ConnState != "Established" || c.Devices()[0].Sessions != n || s.LastDownReason != "" {
		t.Fatalf("same name dropped the connection: %+v", s)
	}
}

func TestSameDomain(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"CTL2.SITE.EXAMPLE.", "ctl2.site.example.", true},
		{"ctl2.site.example", "ctl2.site.example.", true},
		{"Ctl2.Site.Example", "CTL2.SITE.EXAMPLE", true},
		{"ctl2.site.example", "ctl3.site.example", false},
		{"ctl2.site.example..", "ctl2.site.example", false}, // one dot only
		{"", ".", true},
		{"a", "", false},
	} {
		if got := sameDomain(tc.a, tc.b); got != tc.same {
			t.Errorf("sameDomain(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

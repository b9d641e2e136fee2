package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

var commitTime = time.Date(2026, 12, 4, 13, 58, 40, 0, time.UTC)

func TestUpstreamVersion(t *testing.T) {
	for _, c := range []struct {
		s    snapshot
		want string
	}{
		{snapshot{Hash: "8742836", Time: commitTime}, "0.0~git20261204135840.8742836"},
		{snapshot{Hash: "8742836", Time: commitTime, Dirty: true}, "0.0~git20261204135840.8742836.dirty"},
		{snapshot{Tag: "v1.2.3", Hash: "8742836", Time: commitTime}, "1.2.3"},
		{snapshot{Tag: "v1.2.3", Hash: "8742836", Time: commitTime, Dirty: true}, "1.2.3+git20261204135840.8742836.dirty"},
		{snapshot{Tag: "v1.2.3", Ahead: 4, Hash: "8742836", Time: commitTime}, "1.2.3+git20261204135840.8742836"},
		{snapshot{Tag: "v1.3.0-rc1", Hash: "8742836", Time: commitTime}, "1.3.0~rc1"},
		// the time is taken in UTC whatever zone git reported
		{snapshot{Hash: "abc1234", Time: commitTime.In(time.FixedZone("X", 3600))}, "0.0~git20261204135840.abc1234"},
	} {
		if got := upstreamVersion(c.s); got != c.want {
			t.Errorf("upstreamVersion(%+v) = %q, want %q", c.s, got, c.want)
		}
		if _, err := debianVersion(c.want, "1"); err != nil {
			t.Errorf("%q: %v", c.want, err)
		}
	}
}

// TestVersionsSortAsReleased asks dpkg itself: snapshots grow with commit
// time, sort below the first release, releases below their later
// snapshots, release candidates below the release.
func TestVersionsSortAsReleased(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		require(t, false, "dpkg not installed")
	}
	later := commitTime.Add(time.Second)
	ordered := []string{
		upstreamVersion(snapshot{Hash: "fffffff", Time: commitTime}),
		upstreamVersion(snapshot{Hash: "0000000", Time: later}),
		upstreamVersion(snapshot{Hash: "0000000", Time: later, Dirty: true}),
		upstreamVersion(snapshot{Tag: "v0.1.0-rc1", Hash: "0000000", Time: later}),
		upstreamVersion(snapshot{Tag: "v0.1.0", Hash: "0000000", Time: later}),
		upstreamVersion(snapshot{Tag: "v0.1.0", Ahead: 1, Hash: "0000000", Time: later}),
		upstreamVersion(snapshot{Tag: "v0.1.0", Ahead: 2, Hash: "0000000", Time: later.Add(time.Hour)}),
	}
	for i := 1; i < len(ordered); i++ {
		lo, _ := debianVersion(ordered[i-1], "1")
		hi, _ := debianVersion(ordered[i], "1")
		if out, err := exec.Command("dpkg", "--compare-versions", lo, "lt", hi).CombinedOutput(); err != nil {
			t.Errorf("dpkg: %s is not below %s: %v %s", lo, hi, err, out)
		}
	}
}

func TestDebianVersionRejects(t *testing.T) {
	for _, c := range []struct{ upstream, revision string }{
		{"", "1"}, {"v1.0", "1"}, {"1.0-2", "1"}, {"1:1.0", "1"}, {"1.0 beta", "1"}, {"1.0", ""}, {"1.0", "1-2"},
	} {
		if v, err := debianVersion(c.upstream, c.revision); err == nil {
			t.Errorf("debianVersion(%q, %q) = %q, want an error", c.upstream, c.revision, v)
		}
	}
}

func TestParseDescribe(t *testing.T) {
	tag, ahead, err := parseDescribe("v1.2.3-rc1-14-g8742836")
	if err != nil || tag != "v1.2.3-rc1" || ahead != 14 {
		t.Errorf("parseDescribe = %q %d %v", tag, ahead, err)
	}
	for _, bad := range []string{"8742836", "v1-x-g1", "-g"} {
		if _, _, err := parseDescribe(bad); err == nil {
			t.Errorf("parseDescribe(%q): no error", bad)
		}
	}
}

func TestPackagedUnitNeedsOneExecStart(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ unit, want string }{
		{"[Service]\nExecStart=/usr/local/bin/netdevd run\n", "\nExecStart=/usr/bin/netdevd run\n"},
		{"[Service]\nExecStart=/opt/netdevd run\n", ""},
		{"[Service]\nExecStart=/usr/local/bin/netdevd run\nExecStart=/usr/local/bin/netdevd run\n", ""},
	} {
		path := writeFile(t, dir, "u.service", c.unit)
		got, err := packagedUnit(path)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: no error", c.unit)
			}
			continue
		}
		if err != nil || !strings.Contains(string(got), c.want) {
			t.Errorf("%q: got %q, %v", c.unit, got, err)
		}
	}
}

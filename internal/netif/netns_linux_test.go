//go:build linux

package netif

// The netlink side against a real kernel: a scratch network namespace
// holding a veth pair, the manager's OS opened in it. Root only; a skip on
// a developer's machine, a failure in CI.

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// kernelNetns makes a namespace with a veth pair (vk0 up, its peer vk1 up)
// and returns netlink opened in it, and ip(8) run there.
func kernelNetns(t *testing.T) (OS, func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("ip"); os.Geteuid() != 0 || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prerequisite missing in CI: root and ip(8) (network namespaces)")
		}
		t.Skip("prerequisite missing: root and ip(8)")
	}
	name := fmt.Sprintf("ndt-netif-%d", os.Getpid())
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run("link", "add", "vk0", "type", "veth", "peer", "name", "vk1")
	run("link", "set", "vk0", "up")
	run("link", "set", "vk1", "up")
	// netlink opens its socket in the calling thread's namespace.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	kos, err := newNetlinkOS()
	netns.Set(orig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kos.Close)
	return kos, run
}

func TestNetlinkKeepsTheConfiguration(t *testing.T) {
	kos, ip := kernelNetns(t)
	log := logbuf.New(64, nil, nil)
	m := New(Options{Interface: "vk0", OS: kos, Log: log})
	gw1, gw2 := netip.MustParseAddr("10.78.0.1"), netip.MustParseAddr("10.78.0.254")
	ip("addr", "add", "10.78.0.99/24", "dev", "vk0") // by hand: removed
	routes := []config.StaticRoute{
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), NextHop: gw1, Preference: 60},
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), NextHop: gw2, Preference: 60},
		{Dest: netip.MustParsePrefix("198.51.100.0/24"), NextHop: gw2, Preference: 90},
	}
	m.SetConfig(static24, routes)
	m.Reconcile()
	addrs := ip("-4", "addr", "show", "dev", "vk0")
	if !strings.Contains(addrs, "inet 10.78.0.2/24 brd 10.78.0.255 scope global vk0") || strings.Contains(addrs, "10.78.0.99") {
		t.Errorf("addresses:\n%s\nlog:\n%s", addrs, logged(log))
	}
	kernel := ip("route", "show", "proto", "78")
	for _, want := range []string{"default metric 60 \n\tnexthop via 10.78.0.1 dev vk0 weight 1 \n\tnexthop via 10.78.0.254 dev vk0 weight 1",
		"198.51.100.0/24 via 10.78.0.254 dev vk0 metric 90"} {
		if !strings.Contains(kernel, want) {
			t.Errorf("no %q in the kernel:\n%s", want, kernel)
		}
	}
	if shown := m.Routes(); !slices.ContainsFunc(shown, func(r device.Route) bool {
		return r.Proto == device.RouteStatic && r.NextHop == gw2 && r.Pre == 60
	}) {
		t.Errorf("a multipath hop is missing from the display: %+v", shown)
	}
	if st := m.Interface(); st.Addr != static24 || st.AddrOrigin != device.AddrStatic || !st.AdminUp || st.MTU != 1500 || st.MAC == "" {
		t.Errorf("interface %+v", st)
	}
	if _, err := kos.SNMP(); err != nil {
		t.Errorf("SNMP: %v", err)
	}
	before := logged(log)
	m.Reconcile()
	if after := logged(log); after != before {
		t.Errorf("a second check with nothing changed logged:\n%s", after[len(before):])
	}

	// Behind the back: the address and a route go; one check puts both back.
	ip("route", "del", "198.51.100.0/24", "proto", "78")
	ip("addr", "del", "10.78.0.2/24", "dev", "vk0")
	m.Reconcile()
	if k := ip("route", "show", "proto", "78"); !strings.Contains(k, "198.51.100.0/24 via 10.78.0.254") || !strings.Contains(k, "nexthop via 10.78.0.1") {
		t.Errorf("not restored:\n%s\nlog:\n%s", k, logged(log))
	}

	// Another's route stays when ours change.
	ip("route", "add", "192.0.2.0/24", "via", "10.78.0.1", "dev", "vk0", "proto", "static")
	m.SetConfig(static24, routes[2:])
	m.Reconcile()
	if k := ip("route", "show", "proto", "78"); strings.Contains(k, "default") || !strings.Contains(k, "198.51.100.0/24") {
		t.Errorf("after undo of the default route:\n%s", k)
	}
	if k := ip("route", "show", "192.0.2.0/24"); !strings.Contains(k, "via 10.78.0.1") {
		t.Errorf("another's route was removed:\n%s", ip("route"))
	}

	// undo everything.
	m.SetConfig(netip.Prefix{}, nil)
	m.Reconcile()
	if out := ip("route", "show", "proto", "78"); out != "" {
		t.Errorf("routes left:\n%s", out)
	}
	if out := ip("-4", "addr", "show", "dev", "vk0"); strings.Contains(out, "inet ") {
		t.Errorf("address left:\n%s", out)
	}
}

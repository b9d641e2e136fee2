package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/password"
	"github.com/netdevd/netdevd/internal/version"
)

// configAfter runs lines from user view (all must succeed) and returns the
// running configuration.
func configAfter(t *testing.T, lines ...string) config.Config {
	t.Helper()
	s, d := newTestSession(admin)
	for _, line := range lines {
		if out, ok := run(t, s, line); !ok || out != "" && !strings.HasPrefix(line, "sys") {
			if !ok {
				t.Fatalf("%q failed:\n%s", line, out)
			}
		}
	}
	return d.cfg
}

func TestConfigCommands(t *testing.T) {
	sys := "system-view"
	tests := []struct {
		name  string
		lines []string
		check func(c config.Config) bool
	}{
		{"sysname", []string{sys, "sysname Core-1"}, func(c config.Config) bool { return c.Sysname == "Core-1" }},
		{"sysname 64", []string{sys, "sysname " + strings.Repeat("a", 64)}, func(c config.Config) bool { return len(c.Sysname) == 64 }},
		{"hostname alias", []string{sys, "hostname R9"}, func(c config.Config) bool { return c.Sysname == "R9" }},
		{"case and prefixes", []string{"SYS", "SYSN R1", "Cloud-M KEEP 30"}, func(c config.Config) bool {
			return c.Sysname == "R1" && c.Cloud.Keepalive == 30
		}},
		{"no alias", []string{sys, "sysname R1", "no sysname"}, func(c config.Config) bool { return c.Sysname == config.DefaultSysname }},
		{"keepalive 10", []string{sys, "cloud-management keepalive 10"}, func(c config.Config) bool { return c.Cloud.Keepalive == 10 }},
		{"keepalive 3600", []string{sys, "cloud-management keepalive 3600"}, func(c config.Config) bool { return c.Cloud.Keepalive == 3600 }},
		{"undo keepalive", []string{sys, "cloud-management keepalive 30", "undo cloud-management keepalive"}, func(c config.Config) bool {
			return c.Cloud.Keepalive == config.DefaultKeepalive
		}},
		{"ping", []string{sys, "cloud ping 3600"}, func(c config.Config) bool { return c.Cloud.Ping == 3600 }},
		{"undo ping", []string{sys, "cloud ping 10", "undo cloud ping"}, func(c config.Config) bool { return c.Cloud.Ping == 60 }},
		{"port 1", []string{sys, "cloud-management server port 1"}, func(c config.Config) bool { return c.Cloud.ServerPort == 1 }},
		{"port 65535", []string{sys, "cloud-management server port 65535"}, func(c config.Config) bool { return c.Cloud.ServerPort == 65535 }},
		{"undo port", []string{sys, "cloud-management server port 1", "undo cloud-management server port"}, func(c config.Config) bool {
			return c.Cloud.ServerPort == config.DefaultCloudPort
		}},
		{"domain keeps case", []string{sys, "cloud-management server domain Oasis.Example.COM"}, func(c config.Config) bool {
			return c.Cloud.ServerDomain == "Oasis.Example.COM"
		}},
		{"domain 253", []string{sys, "cloud-management server domain " + longDomain(253)}, func(c config.Config) bool {
			return len(c.Cloud.ServerDomain) == 253
		}},
		{"undo domain", []string{sys, "cloud-management server domain a.b", "undo cloud-management server domain"}, func(c config.Config) bool {
			return c.Cloud.ServerDomain == ""
		}},
		{"backups in order", []string{sys, "cloud-management backup-server domain b2.example.com port 443",
			"cloud-management backup-server domain b1.example.com"}, func(c config.Config) bool {
			return slices.Equal(c.Cloud.Backups, []config.Backup{{Domain: "b2.example.com", Port: 443}, {Domain: "b1.example.com"}})
		}},
		{"undo one backup", []string{sys, "cloud backup dom b1.x", "cloud backup dom b2.x", "undo cloud backup dom b1.x"}, func(c config.Config) bool {
			return slices.Equal(c.Cloud.Backups, []config.Backup{{Domain: "b2.x"}})
		}},
		{"undo all backups", []string{sys, "cloud backup dom b1.x", "cloud backup dom b2.x", "undo cloud backup dom"}, func(c config.Config) bool {
			return len(c.Cloud.Backups) == 0
		}},
		{"undo absent backup silent", []string{sys, "undo cloud backup dom nothing.x"}, func(c config.Config) bool { return len(c.Cloud.Backups) == 0 }},
		{"dns servers", []string{sys, "dns server 192.0.2.1", "dns server 192.0.2.2", "dns server 192.0.2.1"}, func(c config.Config) bool {
			return slices.Equal(c.DNSServers, []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")})
		}},
		{"undo dns server", []string{sys, "dns server 192.0.2.1", "undo dns server 192.0.2.1", "undo dns server 192.0.2.9"}, func(c config.Config) bool {
			return len(c.DNSServers) == 0
		}},
		{"ip host replace", []string{sys, "ip host ctl 192.0.2.1", "ip host web 192.0.2.3", "ip host ctl 192.0.2.2"}, func(c config.Config) bool {
			return len(c.IPHosts) == 2 && c.IPHosts[0].Addr == netip.MustParseAddr("192.0.2.2")
		}},
		{"undo ip host other addr", []string{sys, "ip host ctl 192.0.2.1", "undo ip host ctl 192.0.2.9"}, func(c config.Config) bool {
			return len(c.IPHosts) == 1
		}},
		{"undo ip host", []string{sys, "ip host ctl 192.0.2.1", "undo ip host ctl"}, func(c config.Config) bool { return len(c.IPHosts) == 0 }},
		{"dhcp-alloc", []string{sys, "int vlan 1", "ip add dhcp"}, func(c config.Config) bool { return c.Vlan1.DHCPAlloc }},
		{"undo dhcp-alloc", []string{sys, "int vlan 1", "ip add dhcp", "undo ip add dhcp"}, func(c config.Config) bool { return !c.Vlan1.DHCPAlloc }},
		{"ssh", []string{sys, "ssh server enable", "ssh server authentication-retries 5", "ssh server authentication-timeout 120"},
			func(c config.Config) bool {
				return c.SSH == config.SSH{Enabled: true, AuthRetries: 5, AuthTimeout: 120}
			}},
		{"undo ssh", []string{sys, "ssh server enable", "ssh server authentication-retries 1", "ssh server authentication-timeout 1",
			"undo ssh server enable", "undo ssh server authentication-retries", "undo ssh server authentication-timeout"},
			func(c config.Config) bool { return c.SSH == config.Default().SSH }},
		{"vty", []string{sys, "line vty 0 63", "authentication-mode none", "user-role network-admin", "idle-timeout 35791 59"},
			func(c config.Config) bool {
				return c.VTY == config.VTY{AuthMode: "none", UserRole: config.RoleAdmin, IdleMinutes: 35791, IdleSeconds: 59, ScreenLength: config.DefaultScreenLength}
			}},
		{"vty idle min only", []string{sys, "line vty 0 63", "idle-timeout 0"}, func(c config.Config) bool {
			return c.VTY.IdleMinutes == 0 && c.VTY.IdleSeconds == 0
		}},
		{"undo vty", []string{sys, "line vty 0 63", "authentication-mode none", "user-role network-admin", "idle-timeout 1 1",
			"undo authentication-mode", "undo user-role", "undo idle-timeout"},
			func(c config.Config) bool { return c.VTY == config.Default().VTY }},
		{"local user", []string{sys, "local-user bob class manage", "service-type ssh", "authorization-attribute user-role network-admin",
			"password hash " + testHash}, func(c config.Config) bool {
			u, ok := c.User("bob")
			return ok && u.ServiceSSH && u.Role == config.RoleAdmin && u.PasswordHash == testHash
		}},
		{"local user undo", []string{sys, "local-user bob", "service-type ssh", "authorization-attribute user-role network-admin",
			"password hash " + testHash, "undo service-type ssh", "undo authorization-attribute user-role", "undo password"},
			func(c config.Config) bool {
				u, ok := c.User("bob")
				return ok && u.Name == "bob" && u.PasswordHash == "" && !u.ServiceSSH && u.Role == ""
			}},
		{"undo local user", []string{sys, "local-user bob class manage", "quit", "undo local-user bob class manage", "undo local-user nobody"},
			func(c config.Config) bool { return len(c.LocalUsers) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := configAfter(t, tt.lines...); !tt.check(c) {
				t.Errorf("unexpected configuration:\n%s", Render(c))
			}
		})
	}
}

// testHash is a valid stored hash, made once: hashing is deliberately slow.
var testHash = func() string {
	h, err := password.Hash("secret")
	if err != nil {
		panic(err)
	}
	return h
}()

// longDomain is a valid host name of exactly n characters.
func longDomain(n int) string {
	var labels []string
	for n > 0 {
		l := min(n, 63)
		if n-l == 1 { // a one-character remainder cannot follow a dot
			l--
		}
		labels = append(labels, strings.Repeat("a", l))
		n -= l + 1
	}
	return strings.Join(labels, ".")
}

func TestRangesRefused(t *testing.T) {
	lines := []struct{ line, caretAt string }{
		{"cloud-management keepalive 9", "9"},
		{"cloud-management keepalive 3601", "3601"},
		{"cloud-management ping 9", "9"},
		{"cloud-management ping 3601", "3601"},
		{"cloud-management server port 0", "0"},
		{"cloud-management server port 65536", "65536"},
		{"cloud-management backup-server domain b.x port 0", "0"},
		{"cloud-management server domain " + longDomain(254), "a"},
		{"cloud-management server domain -a.example.com", "-a"},
		{"cloud-management server domain a-.example.com", "a-"},
		{"cloud-management server domain a..example.com", "a."},
		{"cloud-management server domain a_b.example.com", "a_"},
		{"cloud-management server domain " + strings.Repeat("a", 64) + ".com", "aaa"},
		{"cloud-management unbinding-code " + strings.Repeat("c", 65), "ccc"},
		{"ssh server authentication-retries 0", "0"},
		{"ssh server authentication-retries 6", "6"},
		{"ssh server authentication-timeout 121", "121"},
		{"dns server 256.1.1.1", "256"},
		{"dns server 224.0.0.1", "224"},
		{"dns server 1.2.3", "1.2"},
		{"sysname " + strings.Repeat("n", 65), "nnn"},
		{"local-user " + strings.Repeat("u", 56), "uuu"},
		{"local-user a/b", "a/b"},
	}
	for _, tt := range lines {
		s, d := newTestSession(admin)
		out, ok := run(t, s, "system-view", tt.line)
		col := 9 + strings.LastIndex(tt.line, " "+tt.caretAt) + 1
		if ok || out != caret(col, wrongParam) {
			t.Errorf("%q: ok=%v\n%s", tt.line, ok, out)
		}
		if Render(d.cfg) != Render(config.Default()) {
			t.Errorf("%q changed the configuration", tt.line)
		}
	}
}

func TestLimits(t *testing.T) {
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	for i := 1; i <= 6; i++ {
		run(t, s, "dns server 192.0.2."+itoa(i))
	}
	out, ok := run(t, s, "dns server 192.0.2.7")
	if ok || out != " % The number of DNS servers reached the upper limit.\n" || len(d.cfg.DNSServers) != 6 {
		t.Errorf("7th dns server: ok=%v %q", ok, out)
	}
	for i := 1; i <= 8; i++ {
		run(t, s, "cloud-management backup-server domain b"+itoa(i)+".example.com")
	}
	out, ok = run(t, s, "cloud-management backup-server domain b9.example.com")
	if ok || out != " % The number of backup servers reached the upper limit.\n" {
		t.Errorf("9th backup: ok=%v %q", ok, out)
	}
	out, ok = run(t, s, "cloud-management backup-server domain b1.example.com port 8443")
	if ok || out != " % The backup server already exists.\n" {
		t.Errorf("duplicate backup: ok=%v %q", ok, out)
	}
	if len(d.cfg.Cloud.Backups) != 8 || d.cfg.Cloud.Backups[0].Port != 0 {
		t.Errorf("backups changed: %v", d.cfg.Cloud.Backups)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestUnbindingCodeIsNotKept(t *testing.T) {
	s, d := newTestSession(admin)
	out, ok := run(t, s, "system-view", "cloud-management unbinding-code S3cr3t!")
	if !ok || out != "Unbinding code sent.\n" {
		t.Fatalf("ok=%v %q", ok, out)
	}
	if !slices.Equal(d.unbinds, []string{"S3cr3t!"}) {
		t.Errorf("device got %v", d.unbinds)
	}
	if h := s.History(); h[len(h)-1] != "cloud-management unbinding-code ******" {
		t.Errorf("history %v", h)
	}
	if strings.Contains(Render(d.cfg), "S3cr3t") {
		t.Error("code in configuration")
	}
	run(t, s, "local-user bob class manage", "password simple hunter2")
	if h := s.History(); h[len(h)-1] != "password simple ******" {
		t.Errorf("history %v", h)
	}
	if u, _ := d.cfg.User("bob"); !password.Verify(u.PasswordHash, "hunter2") {
		t.Error("password not stored as its hash")
	}
}

func TestUserViewCommands(t *testing.T) {
	s, d := newTestSession(admin)
	if out, _ := run(t, s, "terminal monitor"); out != "The current terminal is enabled to display logs.\n" || !s.Monitor() {
		t.Errorf("terminal monitor: %q", out)
	}
	if out, _ := run(t, s, "undo terminal monitor"); out != "The current terminal is disabled to display logs.\n" || s.Monitor() {
		t.Errorf("undo terminal monitor: %q", out)
	}
	if out, ok := run(t, s, "reset cloud-management tunnel"); !ok || out != "" || d.resets != 1 {
		t.Errorf("reset: %v %q %d", ok, out, d.resets)
	}
	if out, _ := run(t, s, "sys"); out != "System View: return to User View with Ctrl+Z.\n" {
		t.Errorf("system-view: %q", out)
	}
}

func TestDisplays(t *testing.T) {
	s, _ := newTestSession(admin)
	run(t, s, "system-view", "ip host ctl.example.com 192.0.2.1", "return")
	tests := []struct{ line, want string }{
		{"display clock", "21:33:41 UTC Fri 05/29/2026\n"},
		{"show clock", "21:33:41 UTC Fri 05/29/2026\n"},
		{"dis ver", "Comware Software, Version 7.1.064, Release " + version.Release() + "\n" +
			"Copyright (c) the netdevd authors. All rights reserved.\n" +
			"NETDEVD-1000 uptime is 0 weeks, 0 days, 1 hour, 2 minutes\nLast reboot reason : User reboot\n"},
		{"display users", "  Idx  Line     Idle       Time              Pid     Type\n" +
			"+ 177  VTY 0    00:00:00   May 29 21:33:41   1011    SSH\n" +
			"  178  VTY 1    00:01:15   May 29 21:33:41   1012    SSH\n" +
			"\nFollowing are more details.\n" +
			"VTY 0   :\n        User name: admin\n        Location: 192.0.2.7\n" +
			"VTY 1   :\n        User name: ops\n        Location: 192.0.2.8\n" +
			" +    : Current operation user.\n F    : Current operation user works in async mode.\n"},
		{"display dns host", "Type:\n D: Dynamic    S: Static\n\nTotal number: 1\n\n" +
			"No.  Host name                 Type  TTL        Query type  Reply data\n" +
			" 1   ctl.example.com           S     -          A           192.0.2.1\n"},
		{"display logbuffer | include CLOUD", "%May 29 21:33:41:000 2026 netdevd CLOUD/5/CLOUD_ESTABLISHED: Cloud connection established.\n"},
		{"display current-configuration", rendered("netdevd", "#\n ip host ctl.example.com 192.0.2.1\n", "")},
		{"dis cu | exclude #", " version 7.1.064, Release " + version.Release() + "\n sysname netdevd\n" +
			" ip host ctl.example.com 192.0.2.1\n" + strings.ReplaceAll(lineDefaults, "#\n", "") + "return\n"},
		{"dis cu | begin ip", " ip host ctl.example.com 192.0.2.1\n" + lineDefaults + "#\nreturn\n"},
		{"dis cu | inc  ip host", " ip host ctl.example.com 192.0.2.1\n"},
		{"display dhcp client", "Vlan-interface1 DHCP client information:\n Current state: DISABLED\n"},
		{"display cloud-management state | include ^Cloud connection state", "Cloud connection state   : Idle\n"},
		{"display history-command", "  display users\n  display dns host\n  display logbuffer | include CLOUD\n" +
			"  display current-configuration\n  dis cu | exclude #\n  dis cu | begin ip\n  dis cu | inc  ip host\n" +
			"  display dhcp client\n  display cloud-management state | include ^Cloud connection state\n" +
			"  display history-command\n"},
	}
	for _, tt := range tests {
		out, ok := run(t, s, tt.line)
		if !ok || out != tt.want {
			t.Errorf("%q: ok=%v got\n%s\nwant\n%s", tt.line, ok, out, tt.want)
		}
	}
}

func TestDisplayThis(t *testing.T) {
	s, _ := newTestSession(admin)
	out, _ := run(t, s, "system-view", "interface Vlan-interface1", "display this")
	if out != "#\ninterface Vlan-interface1\n#\nreturn\n" {
		t.Errorf("empty interface: %q", out)
	}
	out, _ = run(t, s, "ip address dhcp-alloc", "display this")
	if out != "#\ninterface Vlan-interface1\n ip address dhcp-alloc\n#\nreturn\n" {
		t.Errorf("interface: %q", out)
	}
	out, _ = run(t, s, "quit", "local-user bob class manage", "service-type ssh", "display this")
	if out != "#\nlocal-user bob class manage\n service-type ssh\n#\nreturn\n" {
		t.Errorf("local-user: %q", out)
	}
	out, _ = run(t, s, "quit", "line vty 0 63", "idle-timeout 5", "display this")
	if out != "#\nline vty 0 63\n authentication-mode scheme\n user-role network-operator\n idle-timeout 5 0\n#\nreturn\n" {
		t.Errorf("line: %q", out)
	}
	// The range as entered, not the whole set of lines.
	out, _ = run(t, s, "quit", "line vty 0 4", "display this")
	if out != "#\nline vty 0 4\n authentication-mode scheme\n user-role network-operator\n idle-timeout 5 0\n#\nreturn\n" {
		t.Errorf("line vty 0 4: %q", out)
	}
	out, _ = run(t, s, "quit", "line vty 7", "display this")
	if !strings.HasPrefix(out, "#\nline vty 7\n") {
		t.Errorf("line vty 7: %q", out)
	}
	out, _ = run(t, s, "quit", "line class vty", "display this")
	if out != "#\nline class vty\n user-role network-operator\n#\nreturn\n" {
		t.Errorf("line class vty: %q", out)
	}
	out, _ = run(t, s, "quit", "line con 0", "display this")
	if out != "#\nline con 0\n user-role network-admin\n#\nreturn\n" {
		t.Errorf("line con 0: %q", out)
	}
}

// testKey is an authorized-key line "TYPE DATA" for a fixed ed25519 key.
func testKey(seed byte) string {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	pub, err := gossh.NewPublicKey(priv.Public())
	if err != nil {
		panic(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub)))
}

func TestPublicKeys(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	s, d := newTestSession(admin)
	run(t, s, "system-view", "local-user bob class manage",
		"public-key "+k1+" bob@laptop", "public-key "+k2, "public-key "+k1+" bob at  work")
	u, _ := d.cfg.User("bob")
	if !slices.Equal(u.PublicKeys, []string{k1 + " bob at work", k2}) {
		t.Fatalf("keys %q", u.PublicKeys)
	}
	text := Render(d.cfg)
	fresh := newFakeDevice()
	if errs := Replay(context.Background(), fresh, text); errs != nil || Render(fresh.cfg) != text {
		t.Fatalf("round trip: %v\n%s", errs, Render(fresh.cfg))
	}
	out, ok := run(t, s, "public-key ssh-ed25519 AAAAnotakey")
	if ok || out != caret(26+23, wrongParam) {
		t.Errorf("bad key: %q", out)
	}
	run(t, s, "undo public-key "+k1)
	if u, _ := d.cfg.User("bob"); !slices.Equal(u.PublicKeys, []string{k2}) {
		t.Errorf("after undo one: %q", u.PublicKeys)
	}
	run(t, s, "undo public-key")
	if u, _ := d.cfg.User("bob"); u.PublicKeys != nil {
		t.Errorf("after undo all: %q", u.PublicKeys)
	}
}

func TestDisplayConfigurations(t *testing.T) {
	s, d := newTestSession(admin)
	if out, ok := run(t, s, "display saved-configuration"); !ok || out != "" {
		t.Errorf("nothing saved: %q", out)
	}
	d.files["startup.cfg"] = "#\n sysname X\n#\nreturn"
	if out, _ := run(t, s, "display saved-configuration"); out != "#\n sysname X\n#\nreturn\n" {
		t.Errorf("saved: %q", out)
	}
	out, _ := run(t, s, "system-view", "sysname R1", "display this")
	if out != rendered("R1", "", "") {
		t.Errorf("display this in system view: %q", out)
	}
}

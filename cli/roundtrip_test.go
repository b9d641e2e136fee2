package cli

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

// randomCommand returns one configuration line for system view, or a view
// line followed by lines of that view, ending back in system view.
func randomCommand(r *rand.Rand) []string {
	domain := func() string {
		return fmt.Sprintf("%s%d.example.com", []string{"a", "B", "ctl"}[r.Intn(3)], r.Intn(12))
	}
	ip := func() string { return fmt.Sprintf("192.0.2.%d", 1+r.Intn(20)) }
	pick := func(opts ...string) string { return opts[r.Intn(len(opts))] }
	gens := []func() []string{
		func() []string {
			return []string{"sysname " + pick("R1", "edge-7", "netdevd", "X", `"core switch 1"`, `""quoted"`, `a"b`, `" lead"`)}
		},
		func() []string { return []string{"undo sysname"} },
		func() []string { return []string{"dns server " + ip()} },
		func() []string { return []string{"undo dns server " + ip()} },
		func() []string { return []string{fmt.Sprintf("ip host h%d %s", r.Intn(5), ip())} },
		func() []string { return []string{fmt.Sprintf("undo ip host h%d", r.Intn(5))} },
		func() []string {
			return []string{"interface Vlan-interface1", pick("ip address dhcp-alloc", "undo ip address dhcp-alloc"), "quit"}
		},
		func() []string { return []string{pick("ssh server enable", "undo ssh server enable")} },
		func() []string { return []string{fmt.Sprintf("ssh server authentication-retries %d", 1+r.Intn(5))} },
		func() []string { return []string{fmt.Sprintf("ssh server authentication-timeout %d", 1+r.Intn(120))} },
		func() []string {
			return []string{"line vty 0 63", pick("authentication-mode none", "authentication-mode password", "authentication-mode scheme",
				"user-role network-admin", "user-role network-operator", "undo user-role", "undo authentication-mode",
				fmt.Sprintf("idle-timeout %d %d", r.Intn(100), r.Intn(60)), fmt.Sprintf("idle-timeout %d", r.Intn(100)), "undo idle-timeout",
				fmt.Sprintf("screen-length %d", r.Intn(513)), "screen-length 24", "undo screen-length"), "quit"}
		},
		func() []string {
			return []string{fmt.Sprintf("local-user u%d class manage", r.Intn(4)), pick("service-type ssh", "undo service-type ssh",
				"authorization-attribute user-role network-admin", "authorization-attribute user-role network-operator",
				"undo authorization-attribute user-role", "password hash "+testHash, "undo password",
				"public-key "+testKey(byte(r.Intn(3))), "public-key "+testKey(byte(r.Intn(3)))+" c"+pick("1", "2 x"),
				"undo public-key "+testKey(byte(r.Intn(3))), "undo public-key"), "quit"}
		},
		func() []string { // two-factor (twofactor_test.go)
			return []string{fmt.Sprintf("local-user u%d class manage", r.Intn(4)), pick("two-factor totp enable", "undo two-factor totp",
				"two-factor totp secret cipher "+testTOTPCipher[r.Intn(2)], "two-factor totp backup-code hash "+testBackupHash[r.Intn(3)]), "quit"}
		},
		func() []string { return []string{fmt.Sprintf("undo local-user u%d class manage", r.Intn(4))} },
		func() []string { return []string{"cloud-management server domain " + domain()} },
		func() []string { return []string{"undo cloud-management server domain"} },
		func() []string { return []string{fmt.Sprintf("cloud-management server port %d", 1+r.Intn(65535))} },
		func() []string { return []string{"undo cloud-management server port"} },
		func() []string {
			line := "cloud-management backup-server domain " + domain()
			if r.Intn(2) == 0 {
				line += fmt.Sprintf(" port %d", 1+r.Intn(65535))
			}
			return []string{line}
		},
		func() []string { return []string{"undo cloud-management backup-server domain " + pick(domain(), "")} },
		func() []string { return []string{fmt.Sprintf("cloud-management keepalive %d", 10+r.Intn(3591))} },
		func() []string { return []string{fmt.Sprintf("cloud-management ping %d", 10+r.Intn(3591))} },
		func() []string {
			return []string{pick("undo cloud-management keepalive", "undo cloud-management ping")}
		},
		func() []string {
			return []string{pick(fmt.Sprintf("archive configuration location flash:/%s filename-prefix %s", pick("archive", "Arch_2", "x-y"), pick("my_archive", "R1", "a-b_c")),
				fmt.Sprintf("archive configuration max %d", 1+r.Intn(10)), "undo archive configuration max", "undo archive configuration location")}
		},
		func() []string {
			return []string{pick(fmt.Sprintf("info-center logbuffer size %d", 1+r.Intn(1024)), "info-center logbuffer size 512",
				"undo info-center logbuffer size")}
		},
		func() []string { // ACLs (cmd_acl.go)
			return []string{fmt.Sprintf("acl %s %d", pick("basic", "number"), 2000+r.Intn(3)), pick(
				fmt.Sprintf("rule permit source 10.%d.1.0 0.0.0.255", r.Intn(4)),
				fmt.Sprintf("rule %d deny", 5*r.Intn(4)),
				fmt.Sprintf("rule %d permit source 10.1.%d.9 0.0.255.255", r.Intn(30), r.Intn(3)),
				fmt.Sprintf("rule deny source 192.0.2.%d 0", r.Intn(4)),
				fmt.Sprintf("rule %d deny source any", r.Intn(12)),
				fmt.Sprintf("rule %d permit source 0.0.0.0 255.255.255.255", r.Intn(12)),
				fmt.Sprintf("rule 65534 permit source 10.%d.0.0 0.255.0.255", r.Intn(3)),
				fmt.Sprintf("undo rule %d", 5*r.Intn(4))), "quit"}
		},
		func() []string { // ssh2 algorithm lists (cmd_ssh2.go): a random subset in a random order
			k := config.SSH2Kinds[r.Intn(len(config.SSH2Kinds))]
			if r.Intn(4) == 0 {
				return []string{"undo ssh2 algorithm " + k.Keyword()}
			}
			algs := k.Algorithms()
			r.Shuffle(len(algs), func(i, j int) { algs[i], algs[j] = algs[j], algs[i] })
			var words []string
			for _, a := range algs[:1+r.Intn(len(algs))] {
				words = append(words, a.Keyword)
			}
			return []string{"ssh2 algorithm " + k.Keyword() + " " + strings.Join(words, " ")}
		},
		func() []string {
			return []string{pick(fmt.Sprintf("undo acl %s %d", pick("basic", "number"), 2000+r.Intn(3)),
				fmt.Sprintf("ssh server acl %d", 2000+r.Intn(4)), "undo ssh server acl")}
		},
	}
	return gens[r.Intn(len(gens))]()
}

// TestRenderReplayRoundTrip: whatever commands built a configuration, its
// rendering replays into a fresh device to the same rendering, and pastes
// into a fresh session's system view line by line with no error line to
// the same rendering (issue 17 item 2).
func TestRenderReplayRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ctx := context.Background()
	for iter := 0; iter < 300; iter++ {
		s, d := newTestSession(admin)
		run(t, s, "system-view")
		for n := r.Intn(25); n > 0; n-- {
			for _, line := range randomCommand(r) {
				term := &fakeTerminal{}
				s.Execute(ctx, line, term) // limits may refuse some lines; that is fine
			}
		}
		text := Render(d.cfg)
		fresh := newFakeDevice()
		if errs := Replay(ctx, fresh, text); len(errs) != 0 {
			t.Fatalf("iteration %d: replay errors %v in\n%s", iter, errs, text)
		}
		if again := Render(fresh.cfg); again != text {
			t.Fatalf("iteration %d: round trip differs:\n%s\nvs\n%s", iter, text, again)
		}
		if pasted := pasteInto(t, text); pasted != text {
			t.Fatalf("iteration %d: pasting differs:\n%s\nvs\n%s", iter, text, pasted)
		}
	}
}

// pasteInto types text line by line into a new session's system view, as
// an engineer pastes a configuration, and returns the rendering after.
// Every line must succeed and print no error.
func pasteInto(t *testing.T, text string) string {
	t.Helper()
	s, d := newTestSession(admin)
	run(t, s, "system-view")
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		term := &fakeTerminal{}
		if !s.Execute(context.Background(), line, term) || strings.Contains(term.out.String(), "%") {
			t.Fatalf("pasting %q in %s: %q\n%s", line, s.Prompt(context.Background()), term.out.String(), text)
		}
	}
	if p := s.Prompt(context.Background()); !strings.HasPrefix(p, "<") {
		t.Errorf("after the pasted return, prompt %q", p)
	}
	return Render(d.cfg)
}

func TestRenderLayout(t *testing.T) {
	if got := Render(config.Default()); got != rendered("netdevd", "", "") {
		t.Errorf("default: %q", got)
	}
	s, d := newTestSession(admin)
	run(t, s, "system-view", "sysname R1", "cloud-management keepalive 30", "dns server 192.0.2.53",
		"ip host ctl 192.0.2.1", "int vlan 1", "ip address dhcp-alloc", "quit", "ssh server enable",
		"line vty 0 63", "authentication-mode none", "quit", "local-user admin class manage",
		"service-type ssh", "quit", "local-user ops class manage", "quit",
		"cloud-management server domain oasis.example.com", "cloud-management backup-server domain b.example.com port 443")
	golden(t, "render-full.golden", Render(d.cfg))
}

func TestReplay(t *testing.T) {
	text := strings.Join([]string{
		"#",
		" sysname R1",
		"#",
		"interface Vlan-interface1",
		" ip address dhcp-alloc",
		" cloud-management keepalive 30", // not of this view: Comware falls back to system view
		"#",
		"local-user admin class manage",
		" service-type ssh",
		" bogus command",
		"line vty 0 63\r",
		" idle-timeout 99999",
		" cloud-management ping 20",
		"return",
		"",
	}, "\n")
	d := newFakeDevice()
	errs := Replay(context.Background(), d, text)
	want := []LineError{
		{Line: 10, Text: " bogus command", Message: unrecognized},
		{Line: 12, Text: " idle-timeout 99999", Message: wrongParam},
	}
	if fmt.Sprint(errs) != fmt.Sprint(want) {
		t.Errorf("errors %v, want %v", errs, want)
	}
	c := d.cfg
	u, ok := c.User("admin")
	if c.Sysname != "R1" || !c.Vlan1.DHCPAlloc || c.Cloud.Keepalive != 30 || c.Cloud.Ping != 20 || !ok || !u.ServiceSSH {
		t.Errorf("replayed configuration:\n%s", Render(c))
	}
}

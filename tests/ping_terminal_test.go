package tests

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Ctrl+C ends a ping in a terminal: OpenSSH's ssh in tmux, through the SSH
// server's relay and the interactive shell, to the daemon's raw socket on
// the loopback. The statistics of what was sent come first, then the
// prompt, and the session goes on.
func TestPingCtrlCInTerminal(t *testing.T) {
	require(t, haveCommand("tmux") && haveCommand("ssh"), "tmux and openssh-client (scripts/install-test-deps.sh)")
	d := startSSHDevice(t)
	host, port, _ := net.SplitHostPort(d.sshAddr)
	s := newTmux(t, 100, 40, "ssh -p "+port+" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "+
		"-o PubkeyAuthentication=no admin@"+host)
	s.waitScreen("password:", 10*time.Second)
	s.keys(adminPassword, "Enter")
	s.waitScreen("<netdevd>", 10*time.Second)
	s.keys("ping -c 100000 127.0.0.1", "Enter")
	s.waitScreen("icmp_seq=3 ttl=64", 10*time.Second)
	s.keys("C-c")
	s.waitScreen("--- Ping statistics for 127.0.0.1 ---", 10*time.Second)
	scr := s.waitScreen("ms\n<netdevd>", 10*time.Second)
	stats := regexp.MustCompile(`(\d+) packet\(s\) transmitted, (\d+) packet\(s\) received, 0\.0% packet loss\nround-trip min/avg/max/std-dev = [0-9./]+ ms\n<netdevd>`)
	m := stats.FindStringSubmatch(scr)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no statistics before the prompt after Ctrl+C:\n%s", scr)
	}
	if strings.Contains(scr, "100000 packet(s)") {
		t.Errorf("the ping was not interrupted:\n%s", scr)
	}
	s.keys("display clock", "Enter") // the session goes on
	clock := regexp.MustCompile(`<netdevd>display clock\n\d\d:\d\d:\d\d \S+ \w{3} \d\d/\d\d/\d{4}\n<netdevd>`)
	waitFor(t, 10*time.Second, "display clock after the ping", func() bool { return clock.MatchString(s.screen()) })
}

// The same in line mode (a terminal that never answers the cursor query,
// as expect or a script over paramiko): Ctrl+C sent as a byte breaks the
// ping, the statistics come, and the session goes on.
func TestPingCtrlCInLineMode(t *testing.T) {
	d := startSSHDevice(t)
	p := openPTYShell(t, dialSSH(t, d.sshAddr, "admin", adminPassword))
	p.waitOutput("<netdevd>", 10*time.Second)
	if _, err := io.WriteString(p.in, "ping -c 100000 127.0.0.1\r"); err != nil {
		t.Fatal(err)
	}
	p.waitOutput("icmp_seq=3 ttl=64", 10*time.Second)
	if _, err := io.WriteString(p.in, "\x03"); err != nil {
		t.Fatal(err)
	}
	p.waitOutput("--- Ping statistics for 127.0.0.1 ---", 10*time.Second)
	p.waitOutput("ms\r\n<netdevd>", 10*time.Second)
	out := strings.ReplaceAll(p.text(), "\r\n", "\n")
	stats := regexp.MustCompile(`(\d+) packet\(s\) transmitted, (\d+) packet\(s\) received, 0\.0% packet loss\nround-trip min/avg/max/std-dev = [0-9./]+ ms\n<netdevd>`)
	if m := stats.FindStringSubmatch(out); m == nil || m[1] != m[2] || m[1] == "100000" {
		t.Fatalf("no statistics of an interrupted ping before the prompt:\n%s", out)
	}
	if out := p.typeLine("display clock", "<netdevd>", 10*time.Second); !regexp.MustCompile(`\d\d:\d\d:\d\d`).MatchString(out) {
		t.Errorf("the session did not go on:\n%s", out)
	}
}

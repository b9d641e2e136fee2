package tests

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawBanner connects from src and returns the first bytes the device sends
// ("" when it closes the connection without a byte).
func rawBanner(t *testing.T, src, addr string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(conn, buf, 8)
	if n == 0 && err != io.EOF && (err == nil || !strings.Contains(err.Error(), "reset by peer")) {
		t.Fatalf("read from %s: %v", src, err)
	}
	return string(buf[:n])
}

// TestSSHServerACL: with `ssh server acl` naming an ACL that permits only
// 127.0.0.1, a client from 127.0.0.2 is dropped before the SSH version
// exchange and the refusal is logged; 127.0.0.1 logs in; `display acl`
// counts the matches; after `undo ssh server acl` 127.0.0.2 gets in again.
func TestSSHServerACL(t *testing.T) {
	d := startSSHDevice(t)
	d.mustExec("system-view", "acl basic 2000", "rule permit source 127.0.0.1 0", "quit", "ssh server acl 2000")
	if cfg := d.mustExec("display current-configuration"); !strings.Contains(cfg,
		"#\nacl basic 2000\n rule 0 permit source 127.0.0.1 0\n#\n") || !strings.Contains(cfg, " ssh server acl 2000\n") {
		t.Fatalf("configuration:\n%s", cfg)
	}

	if b := rawBanner(t, "127.0.0.2", d.sshAddr); b != "" {
		t.Fatalf("127.0.0.2 got %q before being dropped", b)
	}
	if c, err := dialFrom("127.0.0.2", d.sshAddr, "admin", adminPassword); err == nil {
		c.Close()
		t.Fatal("127.0.0.2 logged in through the ACL")
	}
	c, err := dialFrom("127.0.0.1", d.sshAddr, "admin", adminPassword)
	if err != nil {
		t.Fatalf("127.0.0.1: %v", err)
	}
	out, code := sshExec(t, c, "display acl 2000")
	c.Close()
	if code != 0 || out != "Basic IPv4 ACL 2000, 1 rule,\nACL's step is 5\n rule 0 permit source 127.0.0.1 0 (1 times matched)\n" {
		t.Fatalf("display acl over SSH: %d\n%s", code, out)
	}
	// A shell in another process reads the counters over the local API.
	if out := d.pipeShell("display acl all\n"); !strings.Contains(out, " rule 0 permit source 127.0.0.1 0 (1 times matched)\n") {
		t.Fatalf("display acl in netdevd shell:\n%s", out)
	}
	logs := d.mustExec("display logbuffer")
	if !strings.Contains(logs, "SSHS/5/SSHS_ACL_DENY: SSH client 127.0.0.2 was denied by ACL 2000.") {
		t.Fatalf("log:\n%s", logs)
	}
	if n := strings.Count(logs, "SSHS_ACL_DENY"); n != 1 {
		t.Fatalf("%d deny lines for two refusals within a minute:\n%s", n, logs)
	}

	// Saved and loaded at boot: the ACL still applies after a restart.
	d.mustExec("save force")
	d.restart()
	if b := rawBanner(t, "127.0.0.2", d.sshAddr); b != "" {
		t.Fatalf("after restart 127.0.0.2 got %q", b)
	}
	if b := rawBanner(t, "127.0.0.1", d.sshAddr); !strings.HasPrefix(b, "SSH-2.0-") {
		t.Fatalf("after restart 127.0.0.1 got %q", b)
	}

	d.mustExec("system-view", "undo ssh server acl")
	c, err = dialFrom("127.0.0.2", d.sshAddr, "admin", adminPassword)
	if err != nil {
		t.Fatalf("127.0.0.2 after undo ssh server acl: %v", err)
	}
	c.Close()
}

package tests

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// everyFamily configures one device with every command family there is:
// sysname (quoted, with spaces), info-center, DNS, the interface with a
// static address, static routes, SSH
// server and ssh2 algorithms, ACL, the VTY lines, archive, local users
// with password, key and second factor, cloud management.
func everyFamily(t *testing.T) []string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	return []string{
		"system-view",
		`sysname "edge device 7"`,
		"info-center logbuffer size 256",
		"dns server 192.0.2.53",
		"dns server 192.0.2.54",
		"ip host ctl.example.test 192.0.2.10",
		"interface Vlan-interface1",
		"ip address 10.78.0.2 255.255.255.0",
		"quit",
		"ip route-static 0.0.0.0 0 10.78.0.1",
		"ip route-static 198.51.100.0 24 10.78.0.254 preference 30",
		"ssh server authentication-retries 4",
		"ssh server authentication-timeout 45",
		"ssh2 algorithm cipher aes256-gcm aes128-gcm chacha20-poly1305",
		"acl basic 2000",
		"rule 5 permit source 127.0.0.0 0.255.255.255",
		"rule 10 deny source 192.0.2.0 0.0.0.255",
		"quit",
		"ssh server acl 2000",
		"line vty 0 63",
		"idle-timeout 30 0",
		"screen-length 40",
		"quit",
		"archive configuration location flash:/archive filename-prefix e2e",
		"archive configuration max 5",
		"local-user ops class manage",
		"password simple Ops-pass-1",
		"service-type ssh",
		"authorization-attribute user-role network-operator",
		"public-key " + key + " ops@e2e",
		"two-factor totp enable",
		"quit",
		"cloud-management server domain cloud.example.test",
		"cloud-management server port 8443",
		"cloud-management backup-server domain backup.example.test port 9443",
		"cloud-management keepalive 30",
		"cloud-management ping 20",
		"return",
	}
}

// TestPasteCurrentConfiguration (issue 17 item 2): what `display
// current-configuration` prints on one device, pasted through an SSH
// terminal into a factory device's system view, gives no error line and
// the same configuration; in line mode (a script's terminal) and in
// readline mode (a terminal emulator). The same text as startup.cfg boots
// to the same configuration with no bad line.
func TestPasteCurrentConfiguration(t *testing.T) {
	src := startSSHDevice(t)
	src.mustExec(everyFamily(t)...)
	text := src.mustExec("display current-configuration")
	for _, family := range []string{` sysname "edge device 7"`, " info-center logbuffer size", " dns server", " ip host",
		"interface Vlan-interface1", " ip address 10.78.0.2 255.255.255.0", " ip route-static 0.0.0.0 0 10.78.0.1",
		" ip route-static 198.51.100.0 24 10.78.0.254 preference 30", " ssh server acl 2000", " ssh2 algorithm cipher", "acl basic 2000", " rule 5 permit",
		"line vty 0 63", " screen-length 40", " archive configuration location", "local-user ops class manage",
		" public-key ssh-ed25519", " two-factor totp secret cipher", " cloud-management server domain", "\nreturn\n"} {
		if !strings.Contains(text, family) {
			t.Fatalf("the source configuration lacks %q:\n%s", family, text)
		}
	}
	for _, mode := range []string{"line", "readline"} {
		t.Run(mode, func(t *testing.T) {
			dst := startSSHDevice(t)
			p := openPTYShell(t, dialSSH(t, dst.sshAddr, "admin", adminPassword))
			if mode == "readline" {
				p.answerProbe()
			}
			p.waitOutput("<netdevd>", 10*time.Second)
			// A terminal sends Enter as CR, pasted line ends too.
			fmt.Fprint(p.in, "system-view\r"+strings.ReplaceAll(text, "\n", "\r"))
			p.waitOutput("<edge device 7>", 60*time.Second)
			// The mode the relay chose: readline redraws with escape
			// sequences, line mode never writes one after the probe.
			out := p.text()
			if afterProbe := out[strings.Index(out, "<netdevd>"):]; strings.Contains(afterProbe, "\x1b") != (mode == "readline") {
				t.Errorf("not in %s mode:\n%q", mode, afterProbe)
			}
			if plain := stripEscapes(out); strings.Contains(plain, "%") {
				t.Errorf("error lines while pasting:\n%s", plain)
			}
			if got := dst.mustExec("display current-configuration"); got != text {
				t.Errorf("after the paste:\n%s\nwant\n%s", got, text)
			}
		})
	}
	t.Run("startup", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "startup.cfg"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		d := startDevice(t, dir)
		if got := d.mustExec("display current-configuration"); got != text {
			t.Errorf("booted from the text:\n%s\nwant\n%s", got, text)
		}
		if bad := d.mustExec("display logbuffer | include CFG_"); strings.Contains(bad, "CFG_LINE_ERROR") {
			t.Errorf("bad lines at boot:\n%s", bad)
		}
	})
}

var escapes = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[78])`)

// stripEscapes is the text a screen shows, roughly: escape sequences out.
func stripEscapes(s string) string { return escapes.ReplaceAllString(s, "") }

// answerProbe plays a terminal emulator's part for p: it answers every
// cursor position query in the output.
func (p *ptyShell) answerProbe() {
	answered := 0
	go func() {
		for {
			p.mu.Lock()
			queries := bytes.Count(p.out.Bytes(), []byte("\x1b[6n"))
			p.mu.Unlock()
			for ; answered < queries; answered++ {
				if _, err := fmt.Fprint(p.in, "\x1b[1;1R"); err != nil {
					return
				}
			}
			select {
			case <-p.closed:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
}

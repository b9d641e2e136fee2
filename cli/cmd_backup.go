package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/netdevd/netdevd/internal/device"
)

// `backup startup-configuration to sftp://…` and `restore
// startup-configuration from sftp://…` (user view): Comware's TFTP commands
// with an SFTP URL in place of the server address, so that the file travels
// encrypted and the server authenticates itself.

// SFTPURL is a parsed sftp://USER@HOST[:PORT]/PATH.
type SFTPURL struct {
	User string
	Host string // host name or address, without brackets
	Port int
	Path string // absolute, or relative to the user's home for /~/…
}

// Addr is HOST:PORT for dialing.
func (u SFTPURL) Addr() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

// String is the URL without credentials, as logs and messages show it.
func (u SFTPURL) String() string {
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		p = "/~/" + p
	}
	return "sftp://" + u.User + "@" + u.Addr() + p
}

// ParseSFTPURL checks an sftp:// URL. A password in the URL is refused (it
// would reach history); the path follows the SFTP URI draft: /~/ is the
// user's home directory, anything else is absolute.
func ParseSFTPURL(s string) (SFTPURL, error) {
	bad := func(why string) (SFTPURL, error) { return SFTPURL{}, fmt.Errorf("invalid SFTP URL: %s", why) }
	if len(s) < 7 || !strings.EqualFold(s[:7], "sftp://") {
		return bad("it must start with sftp://")
	}
	u, err := url.Parse("sftp://" + s[7:])
	if err != nil {
		return bad("malformed")
	}
	switch {
	case u.User == nil || u.User.Username() == "":
		return bad("no user name (sftp://USER@HOST/PATH)")
	case hasPassword(u):
		return bad("give the password with the password keyword or when asked, not in the URL")
	case u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return bad("no query or fragment allowed")
	case u.Hostname() == "":
		return bad("no host")
	}
	out := SFTPURL{User: u.User.Username(), Host: u.Hostname(), Port: 22}
	if p := u.Port(); p != "" {
		n, ok := parseDecimal(p)
		if !ok || n < 1 || n > 65535 {
			return bad("port out of 1-65535")
		}
		out.Port = n
	}
	if ip := net.ParseIP(out.Host); ip == nil && !validHostname(out.Host) {
		return bad("bad host name")
	}
	path := u.Path
	switch {
	case strings.HasPrefix(path, "/~/"):
		path = path[3:]
	case path == "/" || path == "" || strings.HasSuffix(path, "/"):
		return bad("no file name")
	}
	if path == "" || strings.ContainsAny(path, "\x00") {
		return bad("no file name")
	}
	out.Path = path
	return out, nil
}

func hasPassword(u *url.URL) bool {
	_, set := u.User.Password()
	return set
}

func validSFTPURL(s string) bool {
	_, err := ParseSFTPURL(s)
	return err == nil
}

// validFingerprint accepts OpenSSH's SHA256:BASE64 key fingerprint.
func validFingerprint(s string) bool {
	b64, ok := strings.CutPrefix(s, "SHA256:")
	if !ok {
		return false
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	return err == nil && len(raw) == 32
}

var (
	sftpURLValue     = text(10, 255, validSFTPURL)
	fingerprintValue = text(50, 50, validFingerprint)
	sftpPassword     = text(1, 128, nil)
)

// sftpOptions are the words after the URL: `[ host-key-fingerprint FP ]
// [ password PASSWORD ]`, in that order.
func sftpOptions(h handler) []*node {
	password := func() *node {
		return kw("password", "Specify the password of the SFTP user",
			&node{value: sftpPassword, name: "password", help: "Password", secret: true, run: h})
	}
	return []*node{
		kw("host-key-fingerprint", "Specify the SHA256 fingerprint of the server's host key",
			val("fingerprint", fingerprintValue, "Fingerprint, such as SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
				password()).does(h)),
		password(),
	}
}

// backupCommand is `backup startup-configuration to URL …` (user view).
func backupCommand() *node {
	return kw("backup", "Back up the next startup configuration file to an SFTP server",
		kw("startup-configuration", "Back up the next startup configuration file",
			kw("to", "Specify the destination",
				val("url", sftpURLValue, "Destination: sftp://USER@HOST[:PORT]/PATH", sftpOptions(runBackupStartup)...).does(runBackupStartup))))
}

// restoreCommand is `restore startup-configuration from URL …` (user view).
func restoreCommand() *node {
	return kw("restore", "Restore the next startup configuration file from an SFTP server",
		kw("startup-configuration", "Restore the next startup configuration file",
			kw("from", "Specify the source",
				val("url", sftpURLValue, "Source: sftp://USER@HOST[:PORT]/PATH", sftpOptions(runRestoreStartup)...).does(runRestoreStartup))))
}

const askPassword = "Password:"

// sftpTarget collects the URL, fingerprint and password, asking for the
// password when the line did not give it. ok is false when the user
// interrupted the question.
func (e *invocation) sftpTarget() (device.SFTPTarget, SFTPURL, bool, error) {
	t := device.SFTPTarget{URL: e.arg("url"), HostKeyFingerprint: e.arg("fingerprint"), Password: e.arg("password")}
	u, _ := ParseSFTPURL(t.URL)
	if !e.has("password") {
		pw, err := e.askSecret(askPassword)
		switch {
		case errors.Is(err, io.EOF):
			return t, u, false, failure("No password was given.")
		case err != nil:
			return t, u, false, nil
		}
		t.Password = pw
	}
	return t, u, true, nil
}

func runBackupStartup(e *invocation) error {
	t, u, ok, err := e.sftpTarget()
	if !ok {
		return err
	}
	e.printf("Backing up the next startup configuration file to %s. Please wait...", u.Host)
	e.flush()
	if err := e.s.dev.BackupStartup(e.ctx, t); err != nil {
		e.println()
		return err
	}
	e.println("finished.")
	return nil
}

func runRestoreStartup(e *invocation) error {
	t, u, ok, err := e.sftpTarget()
	if !ok {
		return err
	}
	e.printf("Restoring the next startup configuration file from %s. Please wait...", u.Host)
	e.flush()
	if err := e.s.dev.RestoreStartup(e.ctx, t); err != nil {
		e.println()
		return err
	}
	e.println("finished.")
	return nil
}

// askSecret asks like ask, without echo where the terminal can.
func (e *invocation) askSecret(prompt string) (string, error) {
	e.flush()
	answer, err := e.term.ReadSecret(prompt)
	return strings.TrimSpace(answer), err
}

// ReadSecret takes the answer from the next line like ReadLine, without
// writing it to the output.
func (t *batchTerminal) ReadSecret(prompt string) (string, error) {
	t.out.WriteString(prompt + "\n")
	if t.next >= len(t.lines) {
		return "", io.EOF
	}
	answer := t.lines[t.next]
	t.next++
	return answer, nil
}

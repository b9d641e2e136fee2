package tests

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// sftpServer is a real SFTP server on loopback (x/crypto/ssh with
// pkg/sftp's server), serving the test's files to one password user.
type sftpServer struct {
	ln          net.Listener
	fingerprint string
	wg          sync.WaitGroup
}

const (
	sftpUser     = "backup"
	sftpPassword = "S3cret-sftp-pw"
)

// startSFTP serves on addr ("127.0.0.1:0" for any port) with a new host key.
func startSFTP(t *testing.T, addr string) *sftpServer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	conf := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == sftpUser && string(pw) == sftpPassword {
				return nil, nil
			}
			return nil, fmt.Errorf("wrong password")
		},
	}
	conf.AddHostKey(signer)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &sftpServer{ln: ln, fingerprint: ssh.FingerprintSHA256(signer.PublicKey())}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c, conf) }()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *sftpServer) close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *sftpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *sftpServer) serve(c net.Conn, conf *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, conf)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range requests {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if ok {
					go func() {
						defer ch.Close()
						if srv, err := sftp.NewServer(ch); err == nil {
							srv.Serve()
						}
					}()
				}
			}
		}()
	}
}

func TestBackupRestoreOverSFTP(t *testing.T) {
	srv := startSFTP(t, "127.0.0.1:0")
	remote := t.TempDir()
	d := startDevice(t, "")
	d.mustExec("system-view", "sysname bk-1", "ip host h.example.test 127.0.0.1", "return", "save force")
	startup := filepath.Join(d.dataDir, "startup.cfg")
	url := func(name string) string {
		return fmt.Sprintf("sftp://%s@127.0.0.1:%d%s", sftpUser, srv.port(), filepath.Join(remote, name))
	}

	// Backup with the password on the line; the file arrives identical.
	out := d.mustExec("backup startup-configuration to " + url("r1.cfg") + " password " + sftpPassword)
	if out != "Backing up the next startup configuration file to 127.0.0.1. Please wait...finished.\n" {
		t.Fatalf("backup output:\n%q", out)
	}
	want, _ := os.ReadFile(startup)
	if got, err := os.ReadFile(filepath.Join(remote, "r1.cfg")); err != nil || string(got) != string(want) {
		t.Fatalf("backup differs (%v):\n%s\nvs\n%s", err, got, want)
	}
	if kh, err := os.ReadFile(filepath.Join(d.dataDir, "sftp_known_hosts")); err != nil || !strings.HasPrefix(string(kh), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", srv.port())) {
		t.Fatalf("host key not kept on first use (%v):\n%s", err, kh)
	}

	// The password asked for (the next exec line answers); never echoed.
	out = d.mustExec("backup startup-configuration to "+url("r2.cfg"), sftpPassword)
	if out != "Password:\nBacking up the next startup configuration file to 127.0.0.1. Please wait...finished.\n" {
		t.Fatalf("asked-password backup output:\n%q", out)
	}

	// The same from a script through the line-mode shell on a pipe (the
	// way docs/operations.md suggests, keeping the password out of argv).
	out = d.pipeShell("backup startup-configuration to " + url("r2p.cfg") + "\n" + sftpPassword + "\nquit\n")
	if !strings.Contains(out, "Password:") || !strings.Contains(out, "Please wait...finished.") || strings.Contains(out, sftpPassword) {
		t.Fatalf("piped shell backup:\n%s", out)
	}

	// Restore a modified file: it becomes the saved configuration.
	restored := "#\n sysname restored-1\n#\n ip host h.example.test 127.0.0.1\n#\nreturn\n"
	os.WriteFile(filepath.Join(remote, "r1.cfg"), []byte(restored), 0o600)
	out = d.mustExec("restore startup-configuration from " + url("r1.cfg") + " host-key-fingerprint " + srv.fingerprint + " password " + sftpPassword)
	if out != "Restoring the next startup configuration file from 127.0.0.1. Please wait...finished.\n" {
		t.Fatalf("restore output:\n%q", out)
	}
	if saved := d.mustExec("display saved-configuration"); saved != restored {
		t.Fatalf("display saved-configuration after restore:\n%s", saved)
	}

	// A file with a bad line is refused; startup.cfg stays.
	os.WriteFile(filepath.Join(remote, "bad.cfg"), []byte("#\n sysname x\n no such command\n#\nreturn\n"), 0o600)
	out, code := d.exec("restore startup-configuration from " + url("bad.cfg") + " password " + sftpPassword)
	if code == 0 || !strings.Contains(out, " % The file "+filepath.Join(remote, "bad.cfg")+" is not a valid configuration file (line 3: Unrecognized command found at '^' position.)") {
		t.Fatalf("bad file restore (status %d):\n%s", code, out)
	}
	if got, _ := os.ReadFile(startup); string(got) != restored {
		t.Fatalf("startup.cfg changed by a refused restore:\n%s", got)
	}

	// A wrong password: a clear line, nothing changes, no secret anywhere.
	const wrong = "Wr0ng-pw-123"
	out, code = d.exec("restore startup-configuration from " + url("r2.cfg") + " password " + wrong)
	if code == 0 || !strings.Contains(out, fmt.Sprintf(" %% Login to 127.0.0.1:%d as backup failed: wrong user name or password.\n", srv.port())) {
		t.Fatalf("wrong password (status %d):\n%s", code, out)
	}
	if got, _ := os.ReadFile(startup); string(got) != restored {
		t.Fatalf("startup.cfg changed by a failed login:\n%s", got)
	}
	out, code = d.exec("backup startup-configuration to "+url("r3.cfg"), wrong)
	if code == 0 || strings.Contains(out, wrong) {
		t.Fatalf("wrong asked password (status %d):\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(remote, "r3.cfg")); err == nil {
		t.Fatal("a backup with a wrong password wrote a file")
	}

	// The server's key changes: refused, unless the new fingerprint is given.
	port := srv.port()
	srv.close()
	srv2 := startSFTP(t, fmt.Sprintf("127.0.0.1:%d", port))
	out, code = d.exec("backup startup-configuration to " + url("r4.cfg") + " password " + sftpPassword)
	if code == 0 || !strings.Contains(out, fmt.Sprintf(" %% The host key of [127.0.0.1]:%d has changed (now %s); connection refused.", port, srv2.fingerprint)) {
		t.Fatalf("changed host key (status %d):\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(remote, "r4.cfg")); err == nil {
		t.Fatal("a backup to a server with a changed key wrote a file")
	}
	out, code = d.exec("backup startup-configuration to " + url("r4.cfg") + " host-key-fingerprint " + srv.fingerprint + " password " + sftpPassword)
	if code == 0 || !strings.Contains(out, fmt.Sprintf(" %% The host key of [127.0.0.1]:%d (%s) does not match the fingerprint given.", port, srv2.fingerprint)) {
		t.Fatalf("wrong fingerprint (status %d):\n%s", code, out)
	}
	d.mustExec("backup startup-configuration to " + url("r4.cfg") + " host-key-fingerprint " + srv2.fingerprint + " password " + sftpPassword)
	d.mustExec("backup startup-configuration to " + url("r5.cfg") + " password " + sftpPassword) // the new key is kept now

	if parts, _ := filepath.Glob(filepath.Join(remote, "*.part")); len(parts) != 0 {
		t.Errorf("temporary files left on the server: %v", parts)
	}
	logs := d.mustExec("display logbuffer")
	for _, secret := range []string{sftpPassword, wrong} {
		if strings.Contains(logs, secret) || strings.Contains(d.stderr.String(), secret) {
			t.Fatalf("the password %q reached a log:\n%s\n%s", secret, logs, d.stderr)
		}
	}
	for _, want := range []string{"CFGMAN_BACKUP:", "CFGMAN_RESTORE:", "CFGMAN_RESTORE_FAILED", "CFGMAN_HOSTKEY_CHANGED"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log buffer lacks %s:\n%s", want, logs)
		}
	}
	hist := d.mustExec("display history-command")
	if strings.Contains(hist, sftpPassword) {
		t.Errorf("password in history:\n%s", hist)
	}
}

func TestArchiveAndReplace(t *testing.T) {
	d := startDevice(t, "")
	d.mustExec("system-view", "archive configuration location flash:/archive filename-prefix snap", "archive configuration max 2", "sysname first")
	for i := 1; i <= 3; i++ {
		out := d.mustExec("system-view", fmt.Sprintf("sysname s%d", i), "return", "archive configuration", "Y")
		if !strings.HasSuffix(out, fmt.Sprintf("The archive file snap_%d.cfg is saved.\n", i)) {
			t.Fatalf("archive %d:\n%s", i, out)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(d.dataDir, "archive"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "snap_2.cfg snap_3.cfg" {
		t.Fatalf("archive folder holds %v, want the 2 newest", names)
	}
	out := d.mustExec("display archive configuration")
	if !strings.Contains(out, "#2   ") || !strings.Contains(out, "snap_3.cfg\n'#' indicates the most recent archive file.\nNext archive file to be saved: snap_4.cfg\n") {
		t.Fatalf("display archive configuration:\n%s", out)
	}

	out = d.mustExec("system-view", "sysname changed", "configuration replace file flash:/archive/snap_2.cfg", "N")
	if !strings.HasSuffix(out, "Now replacing the current configuration. Please wait...\nSucceeded in replacing current configuration with the file flash:/archive/snap_2.cfg.\n") {
		t.Fatalf("replace:\n%s", out)
	}
	if cur := d.mustExec("display current-configuration"); !strings.Contains(cur, " sysname s2\n") || !strings.Contains(cur, " archive configuration max 2\n") {
		t.Fatalf("after replace:\n%s", cur)
	}
	os.WriteFile(filepath.Join(d.dataDir, "archive", "broken.cfg"), []byte("#\n sysname nope\n ssh server authentication-retries 9\n#\nreturn\n"), 0o600)
	out, code := d.exec("system-view", "configuration replace file flash:/archive/broken.cfg", "N")
	if code == 0 || !strings.Contains(out, " % Failed to replace current configuration with the file flash:/archive/broken.cfg: line 3: Wrong parameter found at '^' position.\n") {
		t.Fatalf("broken replace (status %d):\n%s", code, out)
	}
	if cur := d.mustExec("display current-configuration"); !strings.Contains(cur, " sysname s2\n") {
		t.Fatalf("a refused replace changed the configuration:\n%s", cur)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// devicePassword is the admin's password on the bench's devices.
const devicePassword = "Bench-pass-1"

// device is one real `netdevd run` process with an admin who logs in by key.
type device struct {
	p       *proc
	dir     string
	sshAddr string
	signer  gossh.Signer
}

// startDevice runs the real daemon on a fresh data directory with
// local-user admin (network-admin, ssh) holding a generated key.
func startDevice(c *benchConfig, dir string, extra ...string) (*device, error) {
	if err := checkBinary(c.netdevdBin); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pw := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(pw, []byte(devicePassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	d := &device{dir: filepath.Join(dir, "flash"), sshAddr: "127.0.0.1:" + strconv.Itoa(port)}
	args := append([]string{"run", "--data-dir", d.dir, "--ssh-listen", d.sshAddr,
		"--admin-password-file", pw, "--log-level", "error"}, extra...)
	d.p, err = start("netdevd run", c.netdevdBin, false, args...)
	if err != nil {
		return nil, err
	}
	if err := waitUnix(d.p, filepath.Join(d.dir, "netdevd.sock"), 15*time.Second); err != nil {
		d.p.kill()
		return nil, err
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	d.signer, _ = gossh.NewSignerFromKey(priv)
	key := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(d.signer.PublicKey())))
	if _, err := netdevdExec(c.netdevdBin, d.dir, "system-view", "local-user admin",
		"public-key "+key+" bench"); err != nil {
		d.p.kill()
		return nil, err
	}
	if err := waitTCP(d.p, d.sshAddr, 10*time.Second); err != nil {
		d.p.kill()
		return nil, err
	}
	return d, nil
}

// openSSH is the baseline: Debian's sshd on a loopback port with its own
// host key, configuration and one authorized key (root, key only).
type openSSH struct {
	p        *proc
	addr     string
	user     string
	signer   gossh.Signer
	password string // set when password login is on
}

// baselineUser picks the account the OpenSSH baseline logs in as: --sshd-user,
// else the first ordinary account (uid ≥ 1000) with a POSIX shell, else
// root. root's own ~/.bashrc may run programs (pyenv init…) that bash
// sources even for `ssh host true`, which would measure the rc file.
func baselineUser(c *benchConfig) string {
	if c.sshdUser != "" {
		return c.sshdUser
	}
	b, _ := os.ReadFile("/etc/passwd")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 7 {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil || uid < 1000 || uid >= 65534 {
			continue
		}
		if sh := f[6]; sh == "/bin/sh" || sh == "/bin/bash" || sh == "/usr/bin/bash" || sh == "/bin/dash" {
			if st, err := os.Stat(f[5]); err == nil && st.IsDir() {
				return f[0]
			}
		}
	}
	return "root"
}

func startOpenSSH(c *benchConfig, dir string) (*openSSH, error) {
	return startOpenSSHWith(c, dir, "")
}

// startOpenSSHWith is startOpenSSH; with a password it also takes password
// logins for the baseline user with that password.
func startOpenSSHWith(c *benchConfig, dir, password string) (*openSSH, error) {
	if err := checkBinary(c.sshdBin); err != nil {
		return nil, fmt.Errorf("OpenSSH baseline: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := gossh.MarshalPrivateKey(hostPriv, "")
	if err != nil {
		return nil, err
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := os.WriteFile(hostKey, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, err
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	// sshd reads the authorized keys as the user: a world-readable file in
	// a world-searchable directory
	pub := filepath.Join(dir, "pub")
	if err := os.MkdirAll(pub, 0o755); err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	ak := filepath.Join(pub, "authorized_keys")
	if err := os.WriteFile(ak, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		return nil, err
	}
	user := baselineUser(c)
	pwAuth, rootLogin := "no", "prohibit-password"
	if password != "" {
		pwAuth, rootLogin = "yes", "yes"
	}
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile %s
StrictModes no
UsePAM yes
PermitRootLogin %s
PasswordAuthentication %s
KbdInteractiveAuthentication no
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel ERROR
`, port, hostKey, ak, filepath.Join(dir, "sshd.pid"), rootLogin, pwAuth)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	if out, err := exec.Command(c.sshdBin, "-t", "-f", cfg).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sshd -t: %v\n%s", err, out)
	}
	var p *proc
	if password == "" {
		p, err = start("OpenSSH sshd", c.sshdBin, false, "-D", "-e", "-f", cfg)
	} else {
		p, err = startSSHDWithPassword(c.sshdBin, cfg, dir, user, password)
	}
	if err != nil {
		return nil, err
	}
	o := &openSSH{p: p, addr: "127.0.0.1:" + strconv.Itoa(port), signer: signer, user: user, password: password}
	if err := waitTCP(p, o.addr, 10*time.Second); err != nil {
		p.kill()
		return nil, err
	}
	return o, nil
}

// startOpenSSHPassword is the OpenSSH baseline with password login, for a
// random password of the baseline user.
func startOpenSSHPassword(c *benchConfig, dir string) (*openSSH, error) {
	b := make([]byte, 12)
	rand.Read(b)
	return startOpenSSHWith(c, dir, fmt.Sprintf("Bb-%x", b))
}

// startSSHDWithPassword runs sshd in a mount namespace of its own where
// /etc/shadow is a copy that gives user the password: the machine's
// accounts are left as they are, and the copy goes with the process.
func startSSHDWithPassword(sshdBin, cfg, dir, user, password string) (*proc, error) {
	for _, tool := range []string{"unshare", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("OpenSSH password baseline: %s not installed", tool)
		}
	}
	cmd := exec.Command("openssl", "passwd", "-6", "-stdin")
	cmd.Stdin = strings.NewReader(password + "\n")
	hash, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("openssl passwd: %w", err)
	}
	shadow, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(shadow), "\n")
	found := false
	for i, l := range lines {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[0] == user {
			f[1] = strings.TrimSpace(string(hash))
			lines[i] = strings.Join(f, ":")
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("no /etc/shadow entry for %s", user)
	}
	copyPath := filepath.Join(dir, "shadow")
	if err := os.WriteFile(copyPath, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		return nil, err
	}
	unshare, _ := exec.LookPath("unshare")
	return start("OpenSSH sshd", unshare, false, "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$0" /etc/shadow && exec "$1" -D -e -f "$2"`, copyPath, sshdBin, cfg)
}

func clientConfig(user string, s gossh.Signer) *gossh.ClientConfig {
	return &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(s)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
}

// sshExec is one whole `ssh host CMD`: connect, key login, exec, output,
// close. login is the connect + key login part.
func sshExec(addr string, cfg *gossh.ClientConfig, cmd string, login *time.Duration) (time.Duration, string, error) {
	t0 := time.Now()
	cl, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		return 0, "", err
	}
	*login = time.Since(t0)
	defer cl.Close()
	s, err := cl.NewSession()
	if err != nil {
		return 0, "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	took := time.Since(t0)
	if err != nil {
		return 0, string(out), fmt.Errorf("exec %q: %v\n%s", cmd, err, out)
	}
	return took, string(out), nil
}

// benchSSHExec: `display cloud-management state` over SSH exec on netdevd
// vs `true` on OpenSSH's sshd, same Go client and key login, interleaved.
func benchSSHExec(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-ssh-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := startDevice(c, dir)
	if err != nil {
		return nil, err
	}
	defer d.p.kill()
	o, err := startOpenSSH(c, dir)
	if err != nil {
		return nil, err
	}
	defer o.p.kill()
	cfgD := clientConfig("admin", d.signer)
	cfgO := clientConfig(o.user, o.signer)
	var loginD, loginO []float64
	a, b, err := interleave(c.runs, func() (float64, error) {
		if err := d.p.alive(); err != nil {
			return 0, err
		}
		var login time.Duration
		took, out, err := sshExec(d.sshAddr, cfgD, "display cloud-management state", &login)
		loginD = append(loginD, ms(login))
		if err == nil && !strings.Contains(out, "Cloud connection state") {
			err = fmt.Errorf("unexpected output:\n%s", out)
		}
		return ms(took), err
	}, func() (float64, error) {
		if err := o.p.alive(); err != nil {
			return 0, err
		}
		var login time.Duration
		took, _, err := sshExec(o.addr, cfgO, "true", &login)
		loginO = append(loginO, ms(login))
		return ms(took), err
	})
	if err != nil {
		return nil, err
	}
	if err := d.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	if err := o.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	return []Row{
		stat("SSH exec `display cloud-management state` (connect+auth+exec+close)", "ms", a).
			withBaseline("OpenSSH sshd `true`", b).target("≤ 1.5× OpenSSH", 1.5, true).
			note("same x/crypto/ssh client, ed25519 key login; OpenSSH: Debian sshd, UsePAM yes, user " + o.user),
		stat("SSH connect + key login only (same runs)", "ms", loginD).
			withBaseline("OpenSSH sshd", loginO).note("the handshake part of the row above"),
	}, nil
}

var promptRE = regexp.MustCompile(`<[^<>\r\n]+>`)

// benchPrompt: interactive SSH sessions (PTY, the client answers the
// relay's terminal probe like a terminal): time from connect to the first
// prompt, and the shell child's private memory at that prompt.
func benchPrompt(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-prompt-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := startDevice(c, dir)
	if err != nil {
		return nil, err
	}
	defer d.p.kill()
	cfg := clientConfig("admin", d.signer)
	var firsts, privs []float64
	runs := min(c.runs, 11)
	for i := 0; i < runs; i++ {
		if err := d.p.alive(); err != nil {
			return nil, err
		}
		took, kb, err := oneSession(d, cfg)
		if err != nil {
			return nil, fmt.Errorf("session %d: %w", i+1, err)
		}
		firsts = append(firsts, ms(took))
		privs = append(privs, float64(kb)/1024)
	}
	if err := d.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	return []Row{
		stat("interactive SSH: connect → first prompt", "ms", firsts).target("≤ 50 ms", 50, false).
			note("PTY, readline mode (client answers the terminal probe)"),
		stat("interactive SSH: shell child private memory", "MB", privs).target("≤ 5 MB", 5, false).
			note("Private_Clean+Private_Dirty, smaps_rollup, at first prompt"),
	}, nil
}

func oneSession(d *device, cfg *gossh.ClientConfig) (time.Duration, uint64, error) {
	before := map[int]bool{}
	for _, pid := range children(d.p.pid()) {
		before[pid] = true
	}
	t0 := time.Now()
	cl, err := gossh.Dial("tcp", d.sshAddr, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	s, err := cl.NewSession()
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 40, 120, gossh.TerminalModes{gossh.ECHO: 1}); err != nil {
		return 0, 0, err
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		return 0, 0, err
	}
	got := make(chan error, 1)
	var buf lockedBuf
	go func() {
		b := make([]byte, 4096)
		answered := 0
		for {
			n, err := out.Read(b)
			buf.Write(b[:n])
			all := []byte(buf.String())
			for q := bytes.Count(all, []byte("\x1b[6n")); answered < q; answered++ {
				io.WriteString(in, "\x1b[1;1R") // a terminal at row 1, column 1
			}
			if promptRE.Match(all) {
				got <- nil
				return
			}
			if err != nil {
				got <- fmt.Errorf("no prompt (%v); got %q", err, buf.String())
				return
			}
		}
	}()
	select {
	case err := <-got:
		if err != nil {
			return 0, 0, err
		}
	case <-time.After(10 * time.Second):
		return 0, 0, fmt.Errorf("no prompt within 10 s; received %q; daemon output:\n%s", buf.String(), d.p.out)
	}
	took := time.Since(t0)
	var child int
	for _, pid := range children(d.p.pid()) {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if !before[pid] && bytes.Contains(cmdline, []byte("shell")) {
			child = pid
		}
	}
	if child == 0 {
		return 0, 0, fmt.Errorf("no shell child of the daemon (pid %d) found", d.p.pid())
	}
	kb, err := privateKB(child)
	if err != nil {
		return 0, 0, err
	}
	io.WriteString(in, "quit\r")
	s.Close()
	cl.Close()
	// the child must be gone before the next session (VTY lines are few)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat("/proc/" + strconv.Itoa(child)); err != nil {
			break
		}
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(child) + "/stat"); bytes.Contains(b, []byte(") Z ")) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
	return took, kb, nil
}

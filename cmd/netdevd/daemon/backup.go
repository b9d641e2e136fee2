package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/atomicfile"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// Backing up flash:/startup.cfg to an SFTP server and restoring it.
//
// Host keys: a server's key is learned the first time the device connects
// to it (trust on first use) and kept in DATA_DIR/sftp_known_hosts in
// OpenSSH's known_hosts format. A server whose key differs from the one
// kept is refused, never silently accepted; `host-key-fingerprint
// SHA256:…` checks the key against the fingerprint instead and, when it
// matches, replaces the kept key.

// KnownHostsFile is where the SFTP servers' host keys are kept on flash:.
const KnownHostsFile = "sftp_known_hosts"

const (
	sftpDialTimeout = 15 * time.Second
	sftpTimeout     = 2 * time.Minute // a whole transfer
)

// knownHostsLock serializes reading and rewriting the known hosts file.
var knownHostsLock sync.Mutex

func (v callerView) BackupStartup(ctx context.Context, t device.SFTPTarget) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	u, err := cli.ParseSFTPURL(t.URL)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(v.d.opts.DataDir, StartupFile))
	if errors.Is(err, os.ErrNotExist) {
		return device.Message("The next startup configuration file does not exist; save the configuration first.")
	}
	if err != nil {
		return err
	}
	err = v.d.withSFTP(ctx, u, t, func(c *sftp.Client) error { return remoteErr(u, putFile(c, u.Path, data)) })
	if err != nil {
		v.d.log.Logf("CFGMAN", logbuf.Warning, "CFGMAN_BACKUP_FAILED", "%s failed to back up the startup configuration to %s: %v", v.id.User, u, err)
		return err
	}
	v.d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_BACKUP", "%s backed up the startup configuration to %s.", v.id.User, u)
	return nil
}

func (v callerView) RestoreStartup(ctx context.Context, t device.SFTPTarget) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	u, err := cli.ParseSFTPURL(t.URL)
	if err != nil {
		return err
	}
	var data []byte
	err = v.d.withSFTP(ctx, u, t, func(c *sftp.Client) error {
		f, err := c.Open(u.Path)
		if err != nil {
			return remoteErr(u, err)
		}
		defer f.Close()
		data, err = readConfig(f)
		return remoteErr(u, err)
	})
	if err == nil {
		if _, perr := v.d.parseConfig(ctx, string(data)); perr != nil {
			err = device.Messagef("The file %s is not a valid configuration file (%v); the next startup configuration file is unchanged.", u.Path, perr)
		}
	}
	if err == nil {
		err = atomicfile.Write(filepath.Join(v.d.opts.DataDir, StartupFile), data, 0o600)
	}
	if err != nil {
		v.d.log.Logf("CFGMAN", logbuf.Warning, "CFGMAN_RESTORE_FAILED", "%s failed to restore the startup configuration from %s: %v", v.id.User, u, err)
		return err
	}
	v.d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_RESTORE", "%s restored the startup configuration from %s.", v.id.User, u)
	return nil
}

// putFile writes data to path on the server without ever leaving half a
// file there: it writes PATH.part, then renames it over PATH (POSIX rename
// where the server has it, else remove and rename).
func putFile(c *sftp.Client, path string, data []byte) error {
	tmp := path + ".part"
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = c.PosixRename(tmp, path); err != nil {
			c.Remove(path)
			err = c.Rename(tmp, path)
		}
	}
	if err != nil {
		c.Remove(tmp)
	}
	return err
}

// remoteErr words an SFTP file error for the operator.
func remoteErr(u cli.SFTPURL, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist):
		return device.Messagef("The file %s does not exist on %s.", u.Path, u.Host)
	case errors.Is(err, os.ErrPermission):
		return device.Messagef("Permission denied for the file %s on %s.", u.Path, u.Host)
	}
	return device.Messagef("Transfer of %s with %s failed: %v", u.Path, u.Host, err)
}

// withSFTP logs in to the server of u and runs f with an SFTP client.
func (d *Daemon) withSFTP(ctx context.Context, u cli.SFTPURL, t device.SFTPTarget, f func(*sftp.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, sftpTimeout)
	defer cancel()
	pw := t.Password
	conf := &ssh.ClientConfig{
		User: u.User,
		Auth: []ssh.AuthMethod{
			ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}),
		},
		HostKeyCallback: d.hostKeyCheck(t.HostKeyFingerprint),
		Timeout:         sftpDialTimeout,
	}
	var dialer net.Dialer
	dctx, dcancel := context.WithTimeout(ctx, sftpDialTimeout)
	conn, err := dialer.DialContext(dctx, "tcp", u.Addr())
	dcancel()
	if err != nil {
		return device.Messagef("Cannot connect to %s: %v", u.Addr(), unwrapNet(err))
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(sftpTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, u.Addr(), conf)
	if err != nil {
		conn.Close()
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return hk
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return device.Messagef("Login to %s as %s failed: wrong user name or password.", u.Addr(), u.User)
		}
		if ctx.Err() != nil {
			return device.Messagef("Login to %s timed out.", u.Addr())
		}
		return device.Messagef("SSH connection to %s failed: %v", u.Addr(), err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	defer client.Close()
	s, err := sftp.NewClient(client)
	if err != nil {
		return device.Messagef("The SFTP service of %s is not available: %v", u.Addr(), err)
	}
	defer s.Close()
	return f(s)
}

// unwrapNet keeps the cause of a dial error ("connection refused").
func unwrapNet(err error) error {
	var sc *os.SyscallError
	if errors.As(err, &sc) && sc.Err != nil {
		return sc.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// hostKeyError refuses a server's key; its text is the line the operator sees.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }

// hostKeyCheck checks a server's key against a fingerprint the operator
// gave or against the kept key, learning unknown servers' keys.
func (d *Daemon) hostKeyCheck(fingerprint string) ssh.HostKeyCallback {
	return func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		addr := knownhosts.Normalize(hostname)
		got := ssh.FingerprintSHA256(key)
		knownHostsLock.Lock()
		defer knownHostsLock.Unlock()
		kept, err := d.knownKeys(addr)
		if err != nil {
			return &hostKeyError{fmt.Sprintf("Cannot read the known host keys: %v", err)}
		}
		if fingerprint != "" {
			if got != fingerprint {
				return &hostKeyError{fmt.Sprintf("The host key of %s (%s) does not match the fingerprint given.", addr, got)}
			}
			if !containsKey(kept, key) {
				if err := d.keepHostKey(addr, key); err != nil {
					return &hostKeyError{fmt.Sprintf("Cannot keep the host key of %s: %v", addr, err)}
				}
				d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_HOSTKEY_SAVED", "Kept the host key %s of %s (checked against the fingerprint given).", got, addr)
			}
			return nil
		}
		switch {
		case containsKey(kept, key):
			return nil
		case len(kept) > 0:
			d.log.Logf("CFGMAN", logbuf.Warning, "CFGMAN_HOSTKEY_CHANGED", "The host key of %s has changed (now %s); connection refused.", addr, got)
			return &hostKeyError{fmt.Sprintf("The host key of %s has changed (now %s); connection refused. If the change is expected, check the new key on the server and give it with host-key-fingerprint.", addr, got)}
		}
		if err := d.keepHostKey(addr, key); err != nil {
			return &hostKeyError{fmt.Sprintf("Cannot keep the host key of %s: %v", addr, err)}
		}
		d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_HOSTKEY_SAVED", "Learned the host key %s of %s on first use.", got, addr)
		return nil
	}
}

func containsKey(keys []ssh.PublicKey, key ssh.PublicKey) bool {
	for _, k := range keys {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return true
		}
	}
	return false
}

// knownKeys returns the keys kept for addr.
func (d *Daemon) knownKeys(addr string) ([]ssh.PublicKey, error) {
	rest, err := os.ReadFile(filepath.Join(d.opts.DataDir, KnownHostsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []ssh.PublicKey
	for len(rest) > 0 {
		var hosts []string
		var key ssh.PublicKey
		_, hosts, key, _, rest, err = ssh.ParseKnownHosts(rest)
		if err != nil {
			break // io.EOF at the end, or a line we did not write
		}
		for _, h := range hosts {
			if h == addr {
				keys = append(keys, key)
			}
		}
	}
	return keys, nil
}

// keepHostKey replaces the keys kept for addr with key, atomically.
func (d *Daemon) keepHostKey(addr string, key ssh.PublicKey) error {
	path := filepath.Join(d.opts.DataDir, KnownHostsFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var b strings.Builder
	for _, line := range strings.Split(string(old), "\n") {
		if f := strings.Fields(line); len(f) == 0 || f[0] == addr {
			continue
		}
		b.WriteString(line + "\n")
	}
	b.WriteString(knownhosts.Line([]string{addr}, key) + "\n")
	return atomicfile.Write(path, []byte(b.String()), 0o600)
}

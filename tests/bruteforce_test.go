package tests

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// procStatus reads a "VmRSS:"-style field of /proc/PID/status in KiB.
func procStatus(t testing.TB, pid int, field string) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func openFDs(t testing.TB, pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// dialFrom opens an SSH connection from a chosen loopback source address.
func dialFrom(src, addr, user, pass string) (*ssh.Client, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.Password(pass)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// TestBruteForceAgainstTheDaemon: 1,000 wrong-password logins from
// 127.0.0.2 are penalised, the administrator still logs in from 127.0.0.1
// meanwhile, and the daemon's descriptors return to where they were.
func TestBruteForceAgainstTheDaemon(t *testing.T) {
	d := startSSHDevice(t)
	pid := d.cmd.Process.Pid
	// One good login first, so that lazily made things exist at baseline.
	c := dialSSH(t, d.sshAddr, "admin", adminPassword)
	c.Close()
	time.Sleep(200 * time.Millisecond)
	fdBase, rssBase := openFDs(t, pid), procStatus(t, pid, "VmRSS")

	const attempts, workers = 1000, 8
	var next, refusedEarly, accepted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= attempts {
				cl, err := dialFrom("127.0.0.2", d.sshAddr, "admin", "Wr0ng-guess")
				switch {
				case err == nil:
					accepted.Add(1)
					cl.Close()
				case !strings.Contains(err.Error(), "unable to authenticate"):
					refusedEarly.Add(1) // closed before any password was tried
				}
			}
		}()
	}
	// The administrator, from another source, during the attack.
	good, err := dialFrom("127.0.0.1", d.sshAddr, "admin", adminPassword)
	if err != nil {
		t.Fatalf("correct login from another source refused during the attack: %v", err)
	}
	if out, code := sshExec(t, good, "display version"); code != 0 {
		t.Fatalf("exec during the attack: %d\n%s", code, out)
	}
	good.Close()
	wg.Wait()
	took := time.Since(start)
	if accepted.Load() != 0 {
		t.Fatalf("%d wrong-password logins accepted", accepted.Load())
	}
	if refusedEarly.Load() < attempts*9/10 {
		t.Fatalf("only %d of %d attempts refused before the password check: no penalty", refusedEarly.Load(), attempts)
	}
	peak, rssAfter := procStatus(t, pid, "VmHWM"), procStatus(t, pid, "VmRSS")
	waitFor(t, 10*time.Second, "descriptors back to baseline", func() bool { return openFDs(t, pid) <= fdBase })
	t.Logf("brute force: %d attempts in %v, %d refused before the password check; daemon RSS %d KiB before, %d KiB after, peak %d KiB; fds %d → %d",
		attempts, took.Round(time.Millisecond), refusedEarly.Load(), rssBase, rssAfter, peak, fdBase, openFDs(t, pid))
	logs := d.mustExec("display logbuffer")
	if !strings.Contains(logs, "SSHS_SRC_BLOCKED") || strings.Contains(logs, "Wr0ng-guess") {
		t.Fatalf("block not logged, or the guessed password logged:\n%s", logs)
	}
}

package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo is `make run`: the banner says how to log in and that the device
// is Established; the printed password works over SSH; Ctrl+C ends it and
// removes what it made.
func TestDemo(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	before := map[string]bool{}
	for _, d := range demoDirs() {
		before[d] = true
	}
	start := time.Now()
	cmd := exec.Command(bin("netdevd"), "demo", "--ssh-listen", addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := false
	t.Cleanup(func() {
		if exited {
			return
		}
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Press Ctrl+C") {
				banner <- b.String()
				break
			}
		}
		for sc.Scan() {
		}
		done <- cmd.Wait()
	}()
	var text string
	select {
	case text = <-banner:
	case <-time.After(20 * time.Second):
		t.Fatal("no demo banner within 20 s")
	}
	if !strings.Contains(text, "Cloud connection state   : Established\n") ||
		!regexp.MustCompile(`Cloud state   : Established \d+m?s after the configuration was typed`).MatchString(text) {
		t.Fatalf("demo is not Established:\n%s", text)
	}
	m := regexp.MustCompile(`(?m)^  password: (\S+)$`).FindStringSubmatch(text)
	if m == nil || !strings.Contains(text, "ssh -p ") {
		t.Fatalf("banner does not say how to log in:\n%s", text)
	}
	c := dialSSH(t, addr, "admin", m[1])
	if out, code := sshExec(t, c, "display cloud-management state | include state"); code != 0 ||
		!strings.Contains(out, "Cloud connection state   : Established") {
		t.Fatalf("over SSH: %d\n%s", code, out)
	}
	c.Close()
	var ours []string
	for _, d := range demoDirs() {
		if !before[d] {
			ours = append(ours, d)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("expected one new demo directory, found %v", ours)
	}
	t.Logf("banner and SSH check after %v", time.Since(start).Round(time.Millisecond))
	stopAt := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		exited = true
		if err != nil {
			t.Fatalf("demo exit after Ctrl+C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo still running 10 s after Ctrl+C")
	}
	t.Logf("stopped %v after Ctrl+C", time.Since(stopAt).Round(time.Millisecond))
	if _, err := os.Stat(os.TempDir() + "/" + ours[0]); err == nil {
		t.Fatalf("demo left %s behind", ours[0])
	}
}

// demoDirs lists the demo's temporary directories that exist now.
func demoDirs() []string {
	ents, _ := os.ReadDir(os.TempDir())
	var dirs []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "netdevd-demo-") {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

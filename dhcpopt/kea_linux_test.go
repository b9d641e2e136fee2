//go:build linux

package dhcpopt

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// TestNetnsKeaShippedConfig serves configs/kea-dhcp4-zero-touch.json (only
// the interface and the lease file changed) with Kea in the site namespace
// and checks that the client learns option 253 from it. Skipped when
// kea-dhcp4 is not installed on a developer's machine; in CI (CI=true)
// the install script provides it and its absence fails the test.
func TestNetnsKeaShippedConfig(t *testing.T) {
	requireNetns(t)
	kea, err := exec.LookPath("kea-dhcp4")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kea-dhcp4 not installed: scripts/install-test-deps.sh should have installed it")
		}
		t.Skip("kea-dhcp4 not installed")
	}
	e := newNetEnv(t)

	raw, err := os.ReadFile("../configs/kea-dhcp4-zero-touch.json")
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	if err := json.Unmarshal(raw, &conf); err != nil {
		t.Fatal(err)
	}
	d4 := conf["Dhcp4"].(map[string]any)
	d4["interfaces-config"] = map[string]any{"interfaces": []string{e.siteIf}}
	d4["lease-database"].(map[string]any)["name"] = filepath.Join(e.dir, "kea-leases4.csv")
	out, _ := json.MarshalIndent(conf, "", "  ")
	path := filepath.Join(e.dir, "kea.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", e.site, kea, "-c", path)
	cmd.Env = append(os.Environ(), "KEA_PIDFILE_DIR="+e.dir, "KEA_LOCKFILE_DIR="+e.dir)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		pw.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	var logMu sync.Mutex
	var logb strings.Builder
	ready := make(chan struct{})
	go func() {
		once := sync.Once{}
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			logMu.Lock()
			logb.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), "DHCP4_STARTED") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	keaLog := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return logb.String()
	}
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("kea exited:\n%s", keaLog())
	case <-time.After(15 * time.Second):
		t.Fatalf("kea not ready:\n%s", keaLog())
	}

	c := New(Options{Interface: e.devIf, ApplyToInterface: true, Timeout: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		runtime.LockOSThread()
		if err := netns.Set(e.devNs); err != nil {
			t.Error(err)
			return
		}
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	c.SetEnabled(true)
	waitFor(t, "BOUND from Kea", 20*time.Second, func() bool { return c.Status().State == StateBound })
	st := c.Status()
	if st.CloudDomain != "oasis.example.com" || st.Lease != 12*time.Hour || st.T1 != 6*time.Hour ||
		st.Router.String() != "192.0.2.1" {
		t.Fatalf("status %+v\n%s", st, keaLog())
	}
}

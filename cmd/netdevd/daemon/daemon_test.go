package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/password"
)

// started runs a daemon on dir until the test ends.
func started(t testing.TB, dir string) (*Daemon, *localapi.Client) {
	t.Helper()
	d, err := New(Options{DataDir: dir, SSHListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	c := localapi.NewClient(SocketPath(dir), "")
	t.Cleanup(func() {
		c.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("daemon did not stop within 10 s")
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Up: the local API answers and Run has logged SYSTEM_READY (after
		// the API starts), so no later start-up line mixes with a test's.
		if _, err := c.WhoAmI(ctx); err == nil && ready(d) {
			return d, c
		}
		if time.Now().After(deadline) {
			t.Fatal("local API not up within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ready(d *Daemon) bool {
	for _, e := range d.Log().Snapshot().Entries {
		if e.Mnemonic == "SYSTEM_READY" {
			return true
		}
	}
	return false
}

func TestFirstBootFactoryAndAdmin(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("Adm1n-pass\n"), 0o600)
	d, err := New(Options{DataDir: dir, AdminPasswordFile: pwFile})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := d.Store().Get()
	if !cfg.Vlan1.DHCPAlloc || !cfg.SSH.Enabled {
		t.Errorf("factory configuration not applied: %+v", cfg)
	}
	u, ok := cfg.User("admin")
	if !ok || u.Role != config.RoleAdmin || !u.ServiceSSH || !password.Verify(u.PasswordHash, "Adm1n-pass") {
		t.Fatalf("admin not created right: %+v", u)
	}
	for _, e := range d.Log().Snapshot().Entries {
		if strings.Contains(e.Text, "Adm1n-pass") {
			t.Fatalf("password reached the log: %q", e.Text)
		}
	}
	sn, _ := os.ReadFile(filepath.Join(dir, "serial"))
	if strings.TrimSpace(string(sn)) != d.Serial() || len(d.Serial()) != 20 {
		t.Fatalf("serial %q not kept in the data dir (%q)", d.Serial(), sn)
	}
	again, err := New(Options{DataDir: dir})
	if err != nil || again.Serial() != d.Serial() {
		t.Fatalf("serial changed across boots: %q → %q (%v)", d.Serial(), again.Serial(), err)
	}
}

func TestBadStartupLinesMaskSecrets(t *testing.T) {
	dir := t.TempDir()
	text := "#\nlocal-user bob class manage\n password simple Sup3rSecret!! extra\n#\n cloud-management unbinding-code ABCSECRET\n#\nreturn\n"
	os.WriteFile(filepath.Join(dir, StartupFile), []byte(text), 0o600)
	d, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Log().Snapshot().Entries {
		if strings.Contains(e.Text, "Sup3rSecret") || strings.Contains(e.Text, "ABCSECRET") {
			t.Fatalf("secret reached the log: %q", e.Text)
		}
	}
}

func TestSaveIsValidatedAndAtomic(t *testing.T) {
	dir := t.TempDir()
	_, c := started(t, dir)
	ctx := context.Background()
	if err := c.Update(ctx, func(cfg *config.Config) error { cfg.Sysname = "saved-one"; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../escape.cfg", "/etc/passwd", "x.txt", ".hidden.cfg"} {
		if err := c.Save(ctx, bad); err == nil {
			t.Errorf("save to %q accepted", bad)
		}
	}
	if err := c.Save(ctx, "flash:/startup.cfg"); err != nil {
		t.Fatal(err)
	}
	saved, _ := c.SavedConfiguration(ctx)
	if !strings.Contains(saved, " sysname saved-one\n") || !strings.HasSuffix(saved, "return\n") {
		t.Fatalf("saved configuration:\n%s", saved)
	}
	fi, _ := os.Stat(filepath.Join(dir, StartupFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("startup.cfg mode %v", fi.Mode())
	}
}

// BenchmarkExecDisplayCurrentConfiguration is `netdevd exec "display
// current-configuration"` through the local API. Its baseline, run beside
// it, is the bare API round trip (whoami) on the same socket.
func BenchmarkExecDisplayCurrentConfiguration(b *testing.B) {
	_, c := started(b, b.TempDir())
	ctx := context.Background()
	b.Run("baseline=whoami", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := c.WhoAmI(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("exec", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if out, ok, err := c.Exec(ctx, []string{"display current-configuration"}); err != nil || !ok || !strings.HasSuffix(out, "return\n") {
				b.Fatalf("%q %v %v", out, ok, err)
			}
		}
	})
}

// BenchmarkLoadStartup boots a daemon (New: serial, log, startup.cfg
// replay) on startup files of 50 and 5,000 lines; the per-line ratio
// between the two shows whether loading stays linear.
func BenchmarkLoadStartup(b *testing.B) {
	for _, n := range []int{50, 5000} {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StartupFile), []byte(startupOf(n)), 0o600); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				d, err := New(Options{DataDir: dir})
				if err != nil {
					b.Fatal(err)
				}
				if bad := countBadLines(d); bad != 0 {
					b.Fatalf("%d bad lines", bad)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
		})
	}
}

func countBadLines(d *Daemon) int {
	n := 0
	for _, e := range d.Log().Snapshot().Entries {
		if e.Mnemonic == "CFG_LINE_ERROR" {
			n++
		}
	}
	return n
}

// startupOf is a startup.cfg of about n lines: ip host entries plus a few
// lines of every section.
func startupOf(n int) string {
	var sb strings.Builder
	sb.WriteString("#\n sysname bench\n#\n")
	for i := 0; i < n-10; i++ {
		fmt.Fprintf(&sb, " ip host h%d.example.test 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	sb.WriteString("#\n cloud-management server domain cloud.example.test\n cloud-management keepalive 30\n#\nreturn\n")
	return sb.String()
}

// TestStartupLoadsAllLinesOfALargeFile: the 5,000-line file of the
// benchmark loads completely.
func TestStartupLoadsAllLinesOfALargeFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, StartupFile), []byte(startupOf(5000)), 0o600)
	d, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := d.Store().Get()
	if len(cfg.IPHosts) != 4990 || cfg.Cloud.Keepalive != 30 || cfg.Sysname != "bench" || countBadLines(d) != 0 {
		t.Fatalf("loaded %d hosts, keepalive %d, sysname %q, %d bad lines", len(cfg.IPHosts), cfg.Cloud.Keepalive, cfg.Sysname, countBadLines(d))
	}
}

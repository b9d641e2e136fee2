package daemon

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

func newArchiveDaemon(t *testing.T, max int) (*Daemon, device.Device, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Store().Update(func(c *config.Config) error {
		c.Archive = config.Archive{Location: "flash:/archive", Prefix: "snap", Max: max}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, d.deviceFor(Console), filepath.Join(dir, "archive")
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestArchiveRotation(t *testing.T) {
	d, dev, dir := newArchiveDaemon(t, 3)
	ctx := context.Background()
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		d.Store().Update(func(c *config.Config) error { c.Sysname = name; return nil })
		got, err := dev.ArchiveConfiguration(ctx)
		if err != nil || got != "snap_"+string(rune('1'+i))+".cfg" {
			t.Fatalf("archive %d: %q %v", i, got, err)
		}
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"snap_3.cfg", "snap_4.cfg", "snap_5.cfg"}) {
		t.Fatalf("kept %v", names)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "snap_5.cfg"))
	if !strings.Contains(string(b), " sysname e\n") {
		t.Fatalf("snap_5.cfg:\n%s", b)
	}
	fi, _ := os.Stat(filepath.Join(dir, "snap_5.cfg"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	info, err := dev.Archives(ctx)
	if err != nil || info.Next != "snap_6.cfg" || len(info.Files) != 3 || info.Files[2].Name != "snap_5.cfg" {
		t.Fatalf("archives: %+v %v", info, err)
	}

	// Numbers wrap after 1000; other files in the folder are left alone.
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "snap_1000.cfg"), []byte("#\nreturn\n"), 0o600)
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "snap_1000.cfg"), future, future)
	if got, err := dev.ArchiveConfiguration(ctx); err != nil || got != "snap_1.cfg" {
		t.Fatalf("after 1000: %q %v", got, err)
	}
	if names := dirNames(t, dir); len(names) != 4 || !slices.Contains(names, "notes.txt") || slices.Contains(names, "snap_3.cfg") {
		t.Fatalf("after wrap: %v", names)
	}

	if _, err := d.deviceFor(device.Identity{User: "op", Role: config.RoleOperator}).ArchiveConfiguration(ctx); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator archived: %v", err)
	}
}

func TestReplaceConfiguration(t *testing.T) {
	d, dev, dir := newArchiveDaemon(t, 5)
	ctx := context.Background()
	os.MkdirAll(dir, 0o700)
	want := config.Default()
	want.Sysname, want.DNSServers = "from-file", []netip.Addr{netip.MustParseAddr("192.0.2.53")}
	good := cli.Render(want)
	os.WriteFile(filepath.Join(dir, "good.cfg"), []byte(good), 0o600)
	_, v0 := d.Store().Get()
	if err := dev.ReplaceConfiguration(ctx, "flash:/archive/good.cfg"); err != nil {
		t.Fatal(err)
	}
	cfg, v1 := d.Store().Get()
	if cli.Render(cfg) != good || v1 != v0+1 {
		t.Fatalf("replaced in %d updates:\n%s", v1-v0, cli.Render(cfg))
	}

	bad := map[string]string{
		"bad-line.cfg":  "#\n sysname other\n nonsense here\n#\nreturn\n",
		"bad-value.cfg": "#\n sysname other\n cloud-management keepalive 5\n#\nreturn\n",
		"action.cfg":    "#\n sysname other\n save force\n#\nreturn\n",
	}
	for name, text := range bad {
		os.WriteFile(filepath.Join(d.opts.DataDir, name), []byte(text), 0o600)
		err := dev.ReplaceConfiguration(ctx, name)
		if err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("%s: %v", name, err)
		}
		if now, v := d.Store().Get(); v != v1 || cli.Render(now) != good {
			t.Errorf("%s changed the configuration", name)
		}
	}
	if _, err := os.Stat(filepath.Join(d.opts.DataDir, StartupFile)); err == nil {
		t.Error("a replayed `save force` wrote startup.cfg")
	}
	for _, name := range []string{"missing.cfg", "../x.cfg", "flash:/a/b/c.cfg", "flash:/../x.cfg"} {
		if err := dev.ReplaceConfiguration(ctx, name); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if err := d.deviceFor(device.Identity{User: "op", Role: config.RoleOperator}).ReplaceConfiguration(ctx, "flash:/archive/good.cfg"); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator replaced: %v", err)
	}
	op := d.deviceFor(device.Identity{User: "op", Role: config.RoleOperator})
	target := device.SFTPTarget{URL: "sftp://u@127.0.0.1:1/x.cfg", Password: "pw"}
	if err := op.BackupStartup(ctx, target); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator backup: %v", err)
	}
	if err := op.RestoreStartup(ctx, target); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator restore: %v", err)
	}
}

func TestBackupErrors(t *testing.T) {
	dir := t.TempDir()
	d, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	dev, ctx := d.deviceFor(Console), context.Background()
	target := device.SFTPTarget{URL: "sftp://u@127.0.0.1:1/x.cfg", Password: "Pw-never-logged"}
	if err := dev.BackupStartup(ctx, target); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("no startup.cfg: %v", err)
	}
	os.WriteFile(filepath.Join(dir, StartupFile), []byte("#\nreturn\n"), 0o600)
	if err := dev.BackupStartup(ctx, target); err == nil || err.Error() != "Cannot connect to 127.0.0.1:1: connection refused" {
		t.Errorf("closed port: %v", err)
	}
	if err := dev.RestoreStartup(ctx, device.SFTPTarget{URL: "sftp://u:pw@h/x.cfg"}); err == nil {
		t.Error("a password in the URL was accepted")
	}
	for _, e := range d.Log().Snapshot().Entries {
		if strings.Contains(e.Text, "Pw-never-logged") {
			t.Fatalf("password logged: %q", e.Text)
		}
	}
}

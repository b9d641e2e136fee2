package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

var operatorID = device.Identity{User: "op", Role: config.RoleOperator, Line: "VTY 2"}

// TestRebootRestartsFromStartup: `reboot` answered yes stops the daemon
// cleanly with ErrReboot once the request has ended; the next start loads
// startup.cfg, not the unsaved change, and says the user rebooted it.
func TestRebootRestartsFromStartup(t *testing.T) {
	dir := t.TempDir()
	d, err := New(Options{DataDir: dir, SSHListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.deviceFor(Console).Version(context.Background()); v.LastReboot != device.RebootCold || v.MAC == "" || v.Manufactured.IsZero() {
		t.Errorf("first boot: %+v", v)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	c := localapi.NewClient(SocketPath(dir), "")
	defer c.Close()
	waitAPI(t, c)
	out, ok, err := c.Exec(context.Background(), []string{"system-view", "sysname Saved", "save force", "sysname Unsaved", "return",
		"reboot", "n", "y"})
	if err != nil || !ok || !strings.HasSuffix(out, "This command will reboot the device. Continue? [Y/N]:y\nNow rebooting, please wait...\n") {
		t.Fatalf("reboot: %v %v\n%s", ok, err, out)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrReboot) {
			t.Fatalf("Run: %v, want ErrReboot", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the daemon did not stop after reboot")
	}
	if _, err := os.Stat(SocketPath(dir)); !os.IsNotExist(err) {
		t.Errorf("the socket is left: %v", err)
	}
	again, err := New(Options{DataDir: dir, SSHListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Sysname() != "Saved" {
		t.Errorf("after reboot the sysname is %q", again.Sysname())
	}
	v, _ := again.deviceFor(Console).Version(context.Background())
	if v.LastReboot != device.RebootUser || v.Serial != d.Serial() || v.MAC != d.mac {
		t.Errorf("after reboot: %+v", v)
	}
	// The marker is read once: the start after this one is a cold one.
	third, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := third.deviceFor(Console).Version(context.Background()); v.LastReboot != device.RebootCold {
		t.Errorf("third start: %q", v.LastReboot)
	}
	if log := strings.Join(logTexts(d), "\n"); !strings.Contains(log, "DEVM/1/REBOOT") || !strings.Contains(log, "DEVM/5/SYSTEM_REBOOT: System is rebooting now.") {
		t.Errorf("log:\n%s", log)
	}
	if err := d.deviceFor(operatorID).Reboot(context.Background()); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator reboot: %v", err)
	}
}

func waitAPI(t *testing.T, c *localapi.Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.WhoAmI(context.Background()); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("local API not up within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func logTexts(d *Daemon) []string {
	var out []string
	for _, e := range d.Log().Snapshot().Entries {
		out = append(out, e.Module+"/"+string(rune('0'+e.Severity))+"/"+e.Mnemonic+": "+e.Text)
	}
	return out
}

func TestStartupAndDir(t *testing.T) {
	dir := t.TempDir()
	d, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dev := d.deviceFor(Console)
	if st, _ := dev.Startup(ctx); st != (device.StartupInfo{}) {
		t.Errorf("factory boot: %+v", st)
	}
	if err := dev.Save(ctx, "startup.cfg"); err != nil {
		t.Fatal(err)
	}
	if st, _ := dev.Startup(ctx); st != (device.StartupInfo{Next: StartupFile}) {
		t.Errorf("after save: %+v", st)
	}
	os.WriteFile(filepath.Join(dir, rebootMarker), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "archive"), 0o700)
	l, err := dev.Dir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range l.Files {
		names = append(names, f.Name)
		if f.Name == "startup.cfg" && (f.Dir || f.Size == 0) || f.Name == "archive" && !f.Dir {
			t.Errorf("entry %+v", f)
		}
	}
	if !slices.Equal(names, []string{"archive", "serial", "startup.cfg"}) || l.Total == 0 || l.Free > l.Total {
		t.Errorf("dir: %v total %d free %d", names, l.Total, l.Free)
	}
	if _, err := d.deviceFor(operatorID).Dir(ctx); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator dir: %v", err)
	}
	again, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := again.deviceFor(Console).Startup(ctx); st != (device.StartupInfo{Current: StartupFile, Next: StartupFile}) {
		t.Errorf("boot from the file: %+v", st)
	}
}

// TestWriteFileRedirection: `display … > FILE` replaces the file, `>>`
// appends; the device's own files, folders and bad names are refused and
// left as they were; network-operator may not write.
func TestWriteFileRedirection(t *testing.T) {
	dir := t.TempDir()
	d, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dev := d.deviceFor(Console)
	out, ok := cli.RunBatch(ctx, dev, Console, []string{"display clock > clock.txt", "display version >> clock.txt",
		"display version > flash:/v.txt", "display version >> v.txt"})
	if !ok || out != "" {
		t.Fatalf("redirections: %v %q", ok, out)
	}
	v, _ := os.ReadFile(filepath.Join(dir, "v.txt"))
	c, _ := os.ReadFile(filepath.Join(dir, "clock.txt"))
	if half := len(v) / 2; len(v) == 0 || string(v[:half]) != string(v[half:]) || !strings.HasSuffix(string(c), string(v[:half])) {
		t.Errorf("v.txt %q, clock.txt %q", v, c)
	}
	serial, _ := os.ReadFile(filepath.Join(dir, "serial"))
	os.Mkdir(filepath.Join(dir, "archive"), 0o700)
	for _, name := range []string{"serial", hostKeyName, SocketName, KnownHostsFile, "archive", ".reboot", "a/b", "../x"} {
		if err := dev.WriteFile(ctx, name, []byte("x"), false); err == nil {
			t.Errorf("%s written", name)
		}
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "serial")); string(again) != string(serial) {
		t.Errorf("serial changed: %q", again)
	}
	out, ok = cli.RunBatch(ctx, dev, Console, []string{"display version > serial"})
	if ok || out != " % The file flash:/serial is used by the system.\n" {
		t.Errorf("display > serial: %v %q", ok, out)
	}
	if err := d.deviceFor(operatorID).WriteFile(ctx, "op.txt", []byte("x"), false); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator write: %v", err)
	}
}

func TestResources(t *testing.T) {
	proc := t.TempDir()
	os.WriteFile(filepath.Join(proc, "stat"), []byte("cpu  10 0 10 80 0 0 0 0 0 0\n"), 0o600)
	os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemTotal: 1000 kB\nMemFree: 250 kB\n"), 0o600)
	d, err := New(Options{DataDir: t.TempDir(), ProcDir: proc})
	if err != nil {
		t.Fatal(err)
	}
	d.sys.cpu.Run(canceled()) // one sample, then it stops
	os.WriteFile(filepath.Join(proc, "stat"), []byte("cpu  40 0 20 140 0 0 0 0 0 0\n"), 0o600)
	r, err := d.deviceFor(operatorID).Resources(context.Background())
	// busy 20→60, total 100→200: 40%
	if err != nil || r.CPU != (device.CPUUsage{Last5Sec: 40, Last1Min: 40, Last5Min: 40}) || r.Memory.Total != 1000 || r.Memory.Free != 250 {
		t.Errorf("resources %+v %v", r, err)
	}
	out, _ := cli.RunBatch(context.Background(), d.deviceFor(operatorID), operatorID, []string{"display cpu-usage", "display memory"})
	if !strings.Contains(out, "      40% in last 5 seconds\n") || !strings.Contains(out, "Mem:          1000       750       250") {
		t.Errorf("displays:\n%s", out)
	}
	os.Remove(filepath.Join(proc, "meminfo"))
	if _, err := d.deviceFor(operatorID).Resources(context.Background()); err == nil {
		t.Error("no meminfo: no error")
	}
}

// canceled is a context that has ended.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestUsersListsTheConsole(t *testing.T) {
	dir := t.TempDir()
	d, _ := started(t, dir)
	ctx := context.Background()
	con := localapi.NewClient(SocketPath(dir), "")
	defer con.Close()
	detach, err := con.AttachConsole(ctx, 4321)
	if err != nil {
		t.Fatal(err)
	}
	out, _, _ := con.Exec(ctx, []string{"display users"})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[1], "+ 0    CON 0    00:00:00") || !strings.Contains(lines[1], " 4321") ||
		lines[2] != "" || !strings.Contains(out, "\nFollowing are more details.\nCON 0   :\n +    : Current operation user.\n") {
		t.Errorf("display users:\n%s", out)
	}
	if log := strings.Join(logTexts(d), "\n"); !strings.Contains(log, "SHELL/5/SHELL_LOGIN: Console logged in from console0.") {
		t.Errorf("no console login in the log:\n%s", log)
	}
	// The daemon gives the line back when it sees the shell's request end.
	detach()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _, _ = con.Exec(ctx, []string{"display users"})
		if !strings.Contains(out, "CON 0") && strings.Contains(strings.Join(logTexts(d), "\n"), "SHELL/5/SHELL_LOGOUT: Console logged out from console0.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after detach:\n%s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

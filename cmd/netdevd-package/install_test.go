package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// built is the result of one build: the packages by "name_arch".
type built struct {
	upstream, version string
	debs              map[string]debFile
}

func (b built) deb(name, arch string) string { return b.debs[name+"_"+arch].Path }

// TestPackages builds both packages for amd64 and arm64, checks them with
// dpkg-deb and lintian, then installs, upgrades, removes and purges the
// amd64 packages with dpkg on this machine: once as it is (no running
// systemd), once in a private mount namespace where systemd seems to run
// and a stand-in records what the maintainer scripts ask of systemctl.
func TestPackages(t *testing.T) {
	requireTools(t, "go", "git", "dpkg", "dpkg-deb", "dpkg-query", "lintian", "deb-systemd-helper", "unshare", "mount")
	ctx, cancel := testContext(t)
	defer cancel()
	claimSystem(t, ctx)

	dir := t.TempDir()
	v1 := buildFor(t, ctx, filepath.Join(dir, "v1"), "", "amd64", "arm64")
	// the upgrade: the same sources, a higher version
	v2 := buildFor(t, ctx, filepath.Join(dir, "v2"), v1.upstream+"+1", "amd64")
	if out, err := exec.Command("dpkg", "--compare-versions", v2.version, "gt", v1.version).CombinedOutput(); err != nil {
		t.Fatalf("%s is not above %s: %v %s", v2.version, v1.version, err, out)
	}

	t.Run("dpkg-deb", func(t *testing.T) {
		for _, arch := range []string{"amd64", "arm64"} {
			checkDebFields(t, v1, arch)
			checkDebContents(t, v1, arch)
		}
	})
	t.Run("binaries", func(t *testing.T) { checkBinaries(t, ctx, v1, dir) })
	t.Run("lintian", func(t *testing.T) { checkLintian(t, ctx, v1) })
	t.Run("lifecycle", func(t *testing.T) { lifecycle(t, ctx, v1, v2) })
	t.Run("maintainer scripts under systemd", func(t *testing.T) { scriptsUnderSystemd(t, ctx, v1, v2) })
}

// testContext ends commands two minutes before the test's deadline, so
// that the cleanup still runs before `go test` gives up.
func testContext(t *testing.T) (context.Context, context.CancelFunc) {
	if d, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), d.Add(-2*time.Minute))
	}
	return context.WithCancel(context.Background())
}

func buildFor(t *testing.T, ctx context.Context, out, version string, archs ...string) built {
	t.Helper()
	debs, err := build(ctx, options{OutDir: out, Version: version, Revision: "1",
		Maintainer: defaultMaintainer, Archs: archs})
	if err != nil {
		t.Fatal(err)
	}
	b := built{debs: map[string]debFile{}}
	for _, d := range debs {
		b.debs[d.Name+"_"+d.Arch] = d
		b.version = d.Version
		if d.Program == "netdevd" && d.Arch == "arm64" {
			t.Logf("arm64 /usr/bin/netdevd: %d bytes (static, stripped); %s: %d bytes", d.ProgramSize, filepath.Base(d.Path), d.Size)
		}
	}
	if len(debs) != 2*len(archs) {
		t.Fatalf("built %d packages, want %d", len(debs), 2*len(archs))
	}
	b.upstream = strings.TrimSuffix(b.version, "-1")
	return b
}

func run(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func field(t *testing.T, deb, name string) string {
	t.Helper()
	return strings.TrimSpace(run(t, context.Background(), "dpkg-deb", "--field", deb, name))
}

func checkDebFields(t *testing.T, b built, arch string) {
	for _, name := range ourPackages {
		deb := b.deb(name, arch)
		for f, want := range map[string]string{"Package": name, "Version": b.version, "Architecture": arch,
			"Section": "net", "Maintainer": defaultMaintainer, "Depends": ""} {
			if got := field(t, deb, f); got != want {
				t.Errorf("%s: %s is %q, want %q", filepath.Base(deb), f, got, want)
			}
		}
	}
	deb := b.deb("netdevd", arch)
	info := run(t, context.Background(), "dpkg-deb", "--info", deb)
	for _, script := range []string{"postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, " "+script+" ") {
			t.Errorf("%s: no %s in\n%s", filepath.Base(deb), script, info)
		}
	}
	if got := run(t, context.Background(), "dpkg-deb", "--info", deb, "conffiles"); got != defaultsFile+"\n" {
		t.Errorf("conffiles = %q, want %s", got, defaultsFile)
	}
	desc := strings.Join(strings.Fields(field(t, deb, "Description")), " ")
	for _, want := range []string{"no default password", "Removing the package keeps that directory; purging the package deletes it", "/var/lib/netdevd"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Description lacks %q:\n%s", want, desc)
		}
	}
}

// checkDebContents compares every entry of the data archive with the
// expected regular files and modes; directories must be 0755 root.
func checkDebContents(t *testing.T, b built, arch string) {
	want := map[string]map[string]string{
		"netdevd": {
			"./usr/bin/netdevd":                           "-rwxr-xr-x",
			"./lib/systemd/system/netdevd.service":        "-rw-r--r--",
			"./etc/default/netdevd":                       "-rw-r--r--",
			"./usr/share/doc/netdevd/copyright":           "-rw-r--r--",
			"./usr/share/doc/netdevd/changelog.Debian.gz": "-rw-r--r--",
			"./usr/share/doc/netdevd/README.Debian":       "-rw-r--r--",
			"./usr/share/lintian/overrides/netdevd":       "-rw-r--r--",
		},
		"netdevd-cloudsim": {
			"./usr/bin/cloudsim":                                   "-rwxr-xr-x",
			"./usr/share/doc/netdevd-cloudsim/copyright":           "-rw-r--r--",
			"./usr/share/doc/netdevd-cloudsim/changelog.Debian.gz": "-rw-r--r--",
			"./usr/share/lintian/overrides/netdevd-cloudsim":       "-rw-r--r--",
		},
	}
	for name, files := range want {
		deb := b.deb(name, arch)
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(run(t, context.Background(), "dpkg-deb", "--contents", deb)), "\n") {
			f := strings.Fields(line) // mode owner size date time path
			if len(f) != 6 {
				t.Errorf("%s: unexpected line %q", filepath.Base(deb), line)
				continue
			}
			mode, owner, path := f[0], f[1], f[5]
			if owner != "root/root" && owner != "0/0" {
				t.Errorf("%s: %s owned by %s", filepath.Base(deb), path, owner)
			}
			switch {
			case strings.HasSuffix(path, "/"):
				if mode != "drwxr-xr-x" {
					t.Errorf("%s: directory %s is %s", filepath.Base(deb), path, mode)
				}
			case files[path] == "":
				t.Errorf("%s: unexpected %s %s", filepath.Base(deb), mode, path)
			case files[path] != mode:
				t.Errorf("%s: %s is %s, want %s", filepath.Base(deb), path, mode, files[path])
			default:
				seen[path] = true
			}
		}
		for path := range files {
			if !seen[path] {
				t.Errorf("%s: %s missing", filepath.Base(deb), path)
			}
		}
	}
}

// checkBinaries unpacks every package and checks its program: the
// architecture's machine, static (no interpreter, no dynamic section) and
// stripped (no symbol table, no DWARF).
func checkBinaries(t *testing.T, ctx context.Context, b built, dir string) {
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for key, d := range b.debs {
		root := filepath.Join(dir, "x", key)
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "dpkg-deb", "-x", d.Path, root)
		path := filepath.Join(root, "usr", "bin", d.Program)
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != machines[d.Arch] {
			t.Errorf("%s: machine %v, want %v", key, f.Machine, machines[d.Arch])
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: %s is dynamically linked (%v)", key, d.Program, p.Type)
			}
		}
		for _, s := range []string{".symtab", ".debug_info", ".zdebug_info"} {
			if f.Section(s) != nil {
				t.Errorf("%s: %s not stripped (has %s)", key, d.Program, s)
			}
		}
		f.Close()
	}
}

// checkLintian fails on any error or warning lintian reports; the tags
// overridden on purpose are in configs/debian/*.lintian-overrides, each
// with its reason.
func checkLintian(t *testing.T, ctx context.Context, b built) {
	var debs []string
	for _, d := range b.debs {
		debs = append(debs, d.Path)
	}
	args := append([]string{"--fail-on", "error,warning", "--display-info", "--tag-display-limit", "0"}, debs...)
	// lintian leaves its mldbm-* scratch files behind: give it a
	// directory of the test's own.
	cmd := exec.CommandContext(ctx, "lintian", args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("lintian:\n%s", out)
	if err != nil {
		t.Errorf("lintian: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			t.Errorf("lintian: %s", line)
		}
	}
}

// lifecycle installs, upgrades, removes and purges on this machine, where
// systemd does not run: the maintainer scripts must enable the unit, start
// nothing, keep flash: across the upgrade and removal, and purge it.
func lifecycle(t *testing.T, ctx context.Context, v1, v2 built) {
	out := dpkg(t, ctx, "-i", v1.deb("netdevd", "amd64"), v1.deb("netdevd-cloudsim", "amd64"))
	checkInstalled(t, ctx, v1)
	for _, want := range []string{"enabled but not started", "no default password", "--admin-password-file", "netdevd shell"} {
		if !strings.Contains(out, want) {
			t.Errorf("first install: the message lacks %q:\n%s", want, out)
		}
	}
	for _, path := range []string{dataDir, "/etc/netdevd"} {
		if exists(path) {
			t.Errorf("install created %s", path)
		}
	}
	verifyUnit(t, ctx)

	// the operator's settings and the device's saved configuration
	edited := editDefaults(t)
	startup := saveStartupConfig(t, ctx, "PkgTest")

	out = dpkg(t, ctx, "-i", v2.deb("netdevd", "amd64"), v2.deb("netdevd-cloudsim", "amd64"))
	checkInstalled(t, ctx, v2)
	if strings.Contains(out, "no default password") {
		t.Errorf("upgrade with a startup.cfg repeats the first-password message:\n%s", out)
	}
	checkFile(t, defaultsFile, edited, "the upgrade kept the edited conffile")
	checkFile(t, filepath.Join(dataDir, "startup.cfg"), startup, "the upgrade kept startup.cfg")
	if got := runDaemon(t, ctx, "display current-configuration | include sysname"); !strings.Contains(got, "sysname PkgTest") {
		t.Errorf("the upgraded daemon did not load the kept startup.cfg: %q", got)
	}

	out = dpkg(t, ctx, "-r", "netdevd", "netdevd-cloudsim")
	if st := dpkgStatus("netdevd"); st != "rc" {
		t.Errorf("after remove: netdevd status %q, want rc (conffiles kept)", st)
	}
	for _, path := range []string{"/usr/bin/netdevd", unitFile, "/usr/bin/cloudsim"} {
		if exists(path) {
			t.Errorf("after remove: %s still there", path)
		}
	}
	checkFile(t, defaultsFile, edited, "remove keeps the conffile")
	checkFile(t, filepath.Join(dataDir, "startup.cfg"), startup, "remove keeps flash:")
	if target, _ := os.Readlink(maskLink); target != "/dev/null" {
		t.Errorf("after remove: %s -> %q, want the mask /dev/null", maskLink, target)
	}
	if !strings.Contains(out, "/var/lib/netdevd (flash:) is kept") {
		t.Errorf("remove does not say that flash: is kept:\n%s", out)
	}

	dpkg(t, ctx, "--purge", "netdevd", "netdevd-cloudsim")
	checkPurged(t)
}

func dpkg(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := dpkgCmd(ctx, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("dpkg %s:\n%s", args[0], out)
	return string(out)
}

// checkInstalled: both packages at b's version, the files with their modes,
// the conffile, the programs, the unit enabled, no daemon running.
func checkInstalled(t *testing.T, ctx context.Context, b built) {
	t.Helper()
	for _, p := range ourPackages {
		out := run(t, ctx, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}|${Version}", p)
		if want := "ii |" + b.version; out != want {
			t.Errorf("dpkg-query %s: %q, want %q", p, out, want)
		}
	}
	for path, mode := range map[string]os.FileMode{"/usr/bin/netdevd": 0o755, "/usr/bin/cloudsim": 0o755,
		unitFile: 0o644, defaultsFile: 0o644, "/usr/share/doc/netdevd/copyright": 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if st.Mode() != mode || st.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("%s: %v uid %d, want %v root", path, st.Mode(), st.Sys().(*syscall.Stat_t).Uid, mode)
		}
	}
	if conf := run(t, ctx, "dpkg-query", "-W", "-f", "${Conffiles}", "netdevd"); !strings.Contains(conf, " "+defaultsFile+" ") {
		t.Errorf("dpkg does not list %s as a conffile: %q", defaultsFile, conf)
	}
	if got, want := run(t, ctx, "/usr/bin/netdevd", "version"), "netdevd "+b.upstream+" "; !strings.HasPrefix(got, want) {
		t.Errorf("netdevd version = %q, want %q…", got, want)
	}
	if got := run(t, ctx, "/usr/bin/cloudsim", "help"); !strings.Contains(got, "usage: cloudsim") {
		t.Errorf("cloudsim help = %q", got)
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nEnvironmentFile=-/etc/default/netdevd\n", "\nExecStart=/usr/bin/netdevd run --data-dir /var/lib/netdevd "} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("%s lacks %q", unitFile, want)
		}
	}
	if target, err := os.Readlink(wantsLink); err != nil || target != unitFile {
		t.Errorf("not enabled: %s -> %q (%v)", wantsLink, target, err)
	}
	if pids := netdevdProcesses(); len(pids) > 0 {
		t.Errorf("the package started netdevd (pids %v)", pids)
	}
}

// verifyUnit runs systemd-analyze verify on the installed unit. systemd
// need not run for it: it loads the unit and checks the files it names.
func verifyUnit(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		require(t, false, "systemd-analyze (package systemd) not installed: unit not verified")
		return
	}
	if !exists("/run/systemd/system") {
		t.Log("systemd is installed but not running here: systemd-analyze verifies the unit offline")
	}
	out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", unitFile).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}
}

func checkPurged(t *testing.T) {
	t.Helper()
	for _, p := range ourPackages {
		if st := dpkgStatus(p); st != "" {
			t.Errorf("after purge: %s is %q", p, st)
		}
	}
	for _, path := range []string{dataDir, defaultsFile, wantsLink, maskLink, dshMasked + "/netdevd.service",
		dshEnabled + "/netdevd.service.dsh-also", dshEnabled + "/multi-user.target.wants/netdevd.service"} {
		if exists(path) {
			t.Errorf("after purge: %s still there", path)
		}
	}
}

func editDefaults(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(defaultsFile)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(b, []byte("\nVLAN_INTERFACE1=\n"), []byte("\nVLAN_INTERFACE1=pkgtest0\n"), 1)
	if bytes.Equal(edited, b) {
		t.Fatalf("%s has no empty VLAN_INTERFACE1= line", defaultsFile)
	}
	if err := os.WriteFile(defaultsFile, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	return edited
}

func checkFile(t *testing.T, path string, want []byte, what string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v", what, err)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s: %s changed:\n%s", what, path, got)
	}
}

// saveStartupConfig runs the installed daemon on flash:, names the device
// and saves, as an operator would; it returns startup.cfg.
func saveStartupConfig(t *testing.T, ctx context.Context, sysname string) []byte {
	t.Helper()
	runDaemon(t, ctx, "system-view", "sysname "+sysname, "return", "save force")
	b, err := os.ReadFile(filepath.Join(dataDir, "startup.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("sysname "+sysname)) {
		t.Fatalf("startup.cfg lacks sysname %s:\n%s", sysname, b)
	}
	return b
}

// runDaemon starts /usr/bin/netdevd on /var/lib/netdevd (SSH on a loopback
// port of its choosing), runs lines with `netdevd exec` once it logged
// SYSTEM_READY, and stops it.
func runDaemon(t *testing.T, ctx context.Context, lines ...string) string {
	t.Helper()
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(dctx, "/usr/bin/netdevd", "run", "--data-dir", dataDir,
		"--ssh-listen", "127.0.0.1:0", "--log-format", "json")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	logs := &logWatch{word: []byte("SYSTEM_READY"), ready: make(chan struct{})}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("netdevd run: %v\n%s", err, logs.String())
		}
	}()
	select {
	case <-logs.ready:
	case <-dctx.Done():
		t.Fatalf("netdevd logged no SYSTEM_READY: %v", dctx.Err())
	}
	out, err := exec.CommandContext(dctx, "/usr/bin/netdevd", append([]string{"exec", "--data-dir", dataDir}, lines...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("netdevd exec %q: %v\n%s", lines, err, out)
	}
	return string(out)
}

// logWatch keeps a process's log and closes ready once word appears in it.
// exec copies into it from its own goroutine; Wait waits for that copy.
type logWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	word  []byte
	ready chan struct{}
	seen  bool
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.seen && bytes.Contains(w.buf.Bytes(), w.word) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// netdevdProcesses lists processes running /usr/bin/netdevd.
func netdevdProcesses() []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil &&
			strings.TrimSuffix(exe, " (deleted)") == "/usr/bin/netdevd" {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// scriptsUnderSystemd runs the packages' life in a private mount namespace
// whose /run has systemd/system, so the maintainer scripts act as under a
// running systemd. Stand-ins for systemctl and deb-systemd-invoke (first
// on PATH) record each call; `systemctl --root=…` (the preset that
// deb-systemd-helper uses to enable) goes on to the real systemctl.
func scriptsUnderSystemd(t *testing.T, ctx context.Context, v1, v2 built) {
	realSystemctl, err := exec.LookPath("systemctl")
	require(t, err == nil, "systemctl (package systemd) not installed")
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	writeFile(t, bin, "systemctl", fmt.Sprintf(`#!/bin/sh
echo "systemctl $*" >>%q
case "$1" in --root=*) exec %q "$@";; esac
`, calls, realSystemctl))
	writeFile(t, bin, "deb-systemd-invoke", fmt.Sprintf("#!/bin/sh\necho \"deb-systemd-invoke $*\" >>%q\n", calls))
	step := func(want, notWant []string, args ...string) {
		t.Helper()
		os.Remove(calls)
		script := `mount -t tmpfs -o mode=0755 netdevd-pkgtest /run && mkdir -p /run/systemd/system && exec "$@"`
		cmd := exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--propagation", "private",
			"sh", "-c", script, "sh", "dpkg"}, args...)...)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"),
			"DPKG_FRONTEND_LOCKED=1", "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %v (systemd running): %v\n%s", args, err, out)
		}
		log, _ := os.ReadFile(calls)
		t.Logf("dpkg %s, systemd running: calls\n%s", args[0], log)
		assertCalls(t, string(log), want, notWant)
	}
	nd1, nd2 := v1.deb("netdevd", "amd64"), v2.deb("netdevd", "amd64")
	step([]string{"systemctl --system daemon-reload"}, []string{"start", "restart", "stop"}, "-i", nd1)
	if target, err := os.Readlink(wantsLink); err != nil || target != unitFile {
		t.Errorf("not enabled: %s -> %q (%v)", wantsLink, target, err)
	}
	step([]string{"systemctl --system daemon-reload", "deb-systemd-invoke try-restart netdevd.service"},
		[]string{"invoke start", "invoke stop"}, "-i", nd2)
	step([]string{"deb-systemd-invoke stop netdevd.service", "systemctl --system daemon-reload"},
		[]string{"start"}, "-r", "netdevd")
	step(nil, []string{"deb-systemd-invoke"}, "--purge", "netdevd")
	checkPurged(t)
}

// assertCalls wants each of want, in that order, and none of notWant.
func assertCalls(t *testing.T, log string, want, notWant []string) {
	t.Helper()
	rest := log
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("no %q (in this order) in calls:\n%s", w, log)
			return
		}
		rest = rest[i+len(w):]
	}
	for _, line := range strings.Split(log, "\n") {
		for _, nw := range notWant {
			if strings.Contains(line, nw) && !strings.Contains(line, "--root=") {
				t.Errorf("unexpected call %q", line)
			}
		}
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The lifecycle test installs into the real system. These are the paths
// that it creates and must leave as it found them.
const (
	dataDir      = "/var/lib/netdevd"
	defaultsFile = "/etc/default/netdevd"
	unitFile     = "/lib/systemd/system/netdevd.service"
	wantsLink    = "/etc/systemd/system/multi-user.target.wants/netdevd.service"
	maskLink     = "/etc/systemd/system/netdevd.service"
	dshEnabled   = "/var/lib/systemd/deb-systemd-helper-enabled"
	dshMasked    = "/var/lib/systemd/deb-systemd-helper-masked"
	// inProgress marks a lifecycle test that is running or was killed
	// before its cleanup: what it finds installed is its own leftover.
	inProgress = "/var/lib/netdevd-package-test.in-progress"
)

var ourPackages = []string{"netdevd", "netdevd-cloudsim"}

// dirsWeMayCreate are made by dpkg or deb-systemd-helper when missing;
// the cleanup removes those that did not exist before, if empty.
var dirsWeMayCreate = []string{
	"/etc/systemd/system/multi-user.target.wants",
	"/etc/systemd/system",
	dshEnabled + "/multi-user.target.wants",
	dshEnabled,
	dshMasked,
	"/etc/default",
	"/lib/systemd/system",
}

// require stops the test when a prerequisite is missing: a skip on a
// developer's machine, a failure in CI (CI=true).
func require(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing in CI: %s", why)
	}
	t.Skipf("prerequisite missing: %s", why)
}

func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		_, err := exec.LookPath(tool)
		require(t, err == nil, tool+" not installed (scripts/install-test-deps.sh)")
	}
}

// claimSystem makes the machine's package state the test's own until the
// test ends: it takes dpkg's frontend lock (so apt, dpkg and another run
// of this test wait, and the test's dpkg calls run under the lock with
// DPKG_FRONTEND_LOCKED), refuses a machine where netdevd is installed or
// left data behind, and registers the cleanup that purges the packages
// and removes what they created, on failure too.
func claimSystem(t *testing.T, ctx context.Context) {
	t.Helper()
	require(t, os.Geteuid() == 0, "root (dpkg -i into the system)")
	lockDpkg(t, ctx)
	if _, err := os.Stat(inProgress); err == nil {
		t.Logf("%s exists: a killed run left state behind; purging it", inProgress)
		restoreSystem(t, nil)
	}
	refuseExisting(t)
	existed := map[string]bool{}
	for _, d := range dirsWeMayCreate {
		existed[d] = exists(d)
	}
	if err := os.WriteFile(inProgress, []byte(fmt.Sprintf("pid %d\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restoreSystem(t, existed) })
}

func lockDpkg(t *testing.T, ctx context.Context) {
	t.Helper()
	f, err := os.OpenFile("/var/lib/dpkg/lock-frontend", os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	// An open-file-description lock conflicts with dpkg's and apt's
	// fcntl locks. Wait for it only as long as the test may run.
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Logf("dpkg frontend lock busy (%v); waiting", err)
		done := make(chan error, 1)
		go func() { done <- unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLKW, &lk) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			f.Close() // ends the wait
			t.Fatalf("dpkg frontend lock: %v", ctx.Err())
		}
		if err != nil {
			f.Close()
			t.Fatalf("dpkg frontend lock: %v", err)
		}
	}
	t.Cleanup(func() { f.Close() }) // registered first: released last
}

// refuseExisting fails on a machine where netdevd is, or was, installed:
// the test would purge it and its data.
func refuseExisting(t *testing.T) {
	t.Helper()
	for _, p := range ourPackages {
		if st := dpkgStatus(p); st != "" {
			t.Fatalf("%s is known to dpkg here (%s); the test installs and purges it and will not touch an existing installation", p, st)
		}
	}
	for _, path := range []string{dataDir, defaultsFile, unitFile, maskLink, "/usr/bin/netdevd", "/usr/bin/cloudsim"} {
		if _, err := os.Lstat(path); err == nil {
			t.Fatalf("%s exists; the test would replace or delete it", path)
		}
	}
}

// restoreSystem purges the packages and removes what they left; existed
// says which directories were there before the test (nil: unknown, keep).
func restoreSystem(t *testing.T, existed map[string]bool) {
	var known []string
	for _, p := range ourPackages {
		if dpkgStatus(p) != "" {
			known = append(known, p)
		}
	}
	if len(known) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := dpkgCmd(ctx, append([]string{"--purge"}, known...)...).CombinedOutput(); err != nil {
			t.Errorf("cleanup: dpkg --purge %v: %v\n%s", known, err, out)
		}
	}
	for _, path := range []string{dataDir, wantsLink, maskLink, dshMasked + "/netdevd.service"} {
		if err := os.RemoveAll(path); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, d := range dirsWeMayCreate {
		if existed != nil && !existed[d] {
			os.Remove(d) // only if empty: never a directory someone else filled
		}
	}
	for _, p := range ourPackages {
		if st := dpkgStatus(p); st != "" {
			t.Errorf("cleanup: %s still known to dpkg (%s)", p, st)
		}
	}
	if err := os.Remove(inProgress); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup: %v", err)
	}
}

// dpkgStatus is the package's status as dpkg-query abbreviates it ("ii ",
// "rc "), or "" when dpkg does not know it (or knows it as not installed).
func dpkgStatus(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", pkg).Output()
	st := strings.TrimSpace(string(out))
	if err != nil || st == "" || strings.HasPrefix(st, "un") || strings.HasPrefix(st, "pn") {
		return ""
	}
	return st
}

// dpkgCmd runs dpkg under the test's frontend lock, without a terminal:
// a question (a conffile prompt) ends it with an error instead of a hang.
func dpkgCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "dpkg", args...)
	cmd.Env = append(os.Environ(), "DPKG_FRONTEND_LOCKED=1", "DEBIAN_FRONTEND=noninteractive")
	return cmd
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

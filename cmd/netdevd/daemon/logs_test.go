package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// waitUntil polls cond for up to 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLogBufferFollowsConfig: `info-center logbuffer size` resizes the
// running buffer (keeping the newest entries) and a startup.cfg's size
// applies from boot.
func TestLogBufferFollowsConfig(t *testing.T) {
	dir := t.TempDir()
	d, c := started(t, dir)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		d.Log().Logf("TEST", logbuf.Informational, "TEST_LINE", "line %d", i)
	}
	if out, ok, err := c.Exec(ctx, []string{"system-view", "info-center logbuffer size 5"}); err != nil || !ok {
		t.Fatalf("exec: %q %v %v", out, ok, err)
	}
	waitUntil(t, "the resize", func() bool { return d.Log().Snapshot().Size == 5 })
	snap := d.Log().Snapshot()
	if len(snap.Entries) != 5 || snap.Entries[4].Text != "line 19" {
		t.Fatalf("after resize: %+v", snap.Entries)
	}
	out, _, _ := c.Exec(ctx, []string{"display logbuffer"})
	if !strings.Contains(out, "Max buffer size: 1024\nActual buffer size: 5\n") || !strings.HasSuffix(out, "TEST/6/TEST_LINE: line 19\n") {
		t.Fatalf("display logbuffer:\n%s", out)
	}
	c.Exec(ctx, []string{"system-view", "undo info-center logbuffer size"})
	waitUntil(t, "the default size", func() bool { return d.Log().Snapshot().Size == logbuf.DefaultSize })

	// from boot
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, StartupFile), []byte("#\n info-center logbuffer size 7\n#\nreturn\n"), 0o600)
	d2, err := New(Options{DataDir: dir2})
	if err != nil {
		t.Fatal(err)
	}
	if s := d2.Log().Snapshot().Size; s != 7 {
		t.Fatalf("size after boot %d", s)
	}
}

// TestResetLogbufferAndDebuggingRoles: reset and the debugging switches are
// network-admin's; the switches drive the cloud connection's debug output
// into the log stream (not into the buffer).
func TestResetLogbufferAndDebuggingRoles(t *testing.T) {
	dir := t.TempDir()
	d, c := started(t, dir)
	ctx := context.Background()
	op := d.deviceFor(device.Identity{User: "ops", Role: config.RoleOperator, Line: "VTY 1"})
	if err := op.ResetLogBuffer(ctx); !errors.Is(err, device.ErrPermission) {
		t.Fatalf("operator reset: %v", err)
	}
	if err := op.SetDebugging(ctx, device.AllDebugging(), true); !errors.Is(err, device.ErrPermission) {
		t.Fatalf("operator debugging: %v", err)
	}
	if out, ok, _ := c.Exec(ctx, []string{"reset logbuffer"}); !ok || out != "" {
		t.Fatalf("reset logbuffer: %q", out)
	}
	if n := len(d.Log().Snapshot().Entries); n != 0 {
		t.Fatalf("%d entries after reset", n)
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.SubscribeLogs(sctx)
	if err != nil {
		t.Fatal(err)
	}
	d.cloudDebug(cloudmgmt.DebugEvent, "off: never shown")
	c.Exec(ctx, []string{"debugging cloud-management event"})
	if out, _, _ := c.Exec(ctx, []string{"display debugging"}); out != "Cloud management event debugging is on\n" {
		t.Fatalf("display debugging: %q", out)
	}
	d.cloudDebug(cloudmgmt.DebugPacket, "packet: never shown")
	d.cloudDebug(cloudmgmt.DebugEvent, "shown")
	select {
	case e := <-stream:
		if e.Text != "shown" || e.Severity != logbuf.Debugging || e.Module != "CLOUD" || e.Mnemonic != "EVENT" {
			t.Fatalf("stream: %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("debug entry never streamed")
	}
	if n := len(d.Log().Snapshot().Entries); n != 0 {
		t.Fatalf("debugging went into the buffer: %+v", d.Log().Snapshot().Entries)
	}
	c.Exec(ctx, []string{"undo debugging all"})
	if sw, _ := c.Debugging(ctx); sw != (device.DebugSwitches{}) {
		t.Fatalf("after undo debugging all: %+v", sw)
	}
	cancel()
	waitUntil(t, "the stream to unsubscribe", func() bool { return d.Log().Subscribers() == 1 }) // the cloud's own
}

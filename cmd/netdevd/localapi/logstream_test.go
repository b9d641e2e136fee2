package localapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// The fake device's log buffer and debugging switches, as the daemon's:
// a subscription that ends with ctx.

func (d fakeDevice) SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error) {
	return d.b.log.Follow(ctx, 16), nil
}

func (d fakeDevice) ResetLogBuffer(context.Context) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	d.b.log.Reset()
	return nil
}

func (d fakeDevice) Debugging(context.Context) (device.DebugSwitches, error) { return d.b.debug, nil }

func (d fakeDevice) SetDebugging(_ context.Context, which device.DebugSwitches, on bool) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	d.b.debug.Set(which, on)
	return nil
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestLogStream: a subscriber receives new entries (operators too), and a
// client that goes away is unsubscribed in the daemon.
func TestLogStream(t *testing.T) {
	b, sock := serve(t)
	c := NewClient(sock, "op-token")
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entries, err := c.SubscribeLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// SubscribeLogs returns after the response header, which the server
	// sends once it has subscribed.
	if n := b.log.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers after SubscribeLogs", n)
	}
	b.log.Log("CFGMAN", logbuf.Notification, "CFGMAN_CFGCHANGED", "one")
	b.log.Log("CLOUD", logbuf.Debugging, "EVENT", "two")
	for _, want := range []string{"one", "two"} {
		select {
		case e := <-entries:
			if e.Text != want {
				t.Fatalf("got %+v, want %q", e, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("entry %q never arrived", want)
		}
	}
	cancel()
	waitFor(t, "the subscription to end", func() bool { return b.log.Subscribers() == 0 })
	select {
	case _, open := <-entries:
		if open {
			// a late entry is fine; the channel must close next
			waitFor(t, "channel close", func() bool { _, open := <-entries; return !open })
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
}

// TestLogStreamManySubscribers: every session gets every entry; all are
// unsubscribed when their clients go.
func TestLogStreamManySubscribers(t *testing.T) {
	b, sock := serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	var chans []<-chan logbuf.Entry
	for i := 0; i < 8; i++ {
		c := NewClient(sock, "")
		defer c.Close()
		ch, err := c.SubscribeLogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	b.log.Log("SYSTEM", logbuf.Notification, "X", "hello")
	for i, ch := range chans {
		select {
		case e := <-ch:
			if e.Text != "hello" {
				t.Errorf("subscriber %d got %+v", i, e)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscriber %d got nothing", i)
		}
	}
	cancel()
	waitFor(t, "all subscriptions to end", func() bool { return b.log.Subscribers() == 0 })
}

func TestDebuggingAndResetOverAPI(t *testing.T) {
	b, sock := serve(t)
	ctx := context.Background()
	admin := NewClient(sock, "")
	defer admin.Close()
	op := NewClient(sock, "op-token")
	defer op.Close()
	if err := admin.SetDebugging(ctx, device.DebugSwitches{CloudPacket: true}, true); err != nil {
		t.Fatal(err)
	}
	if d, err := op.Debugging(ctx); err != nil || d != (device.DebugSwitches{CloudPacket: true}) {
		t.Fatalf("debugging %+v %v", d, err)
	}
	if err := op.SetDebugging(ctx, device.AllDebugging(), false); !errors.Is(err, device.ErrPermission) {
		t.Fatalf("operator set debugging: %v", err)
	}
	b.log.Log("SYSTEM", logbuf.Notification, "X", "hello")
	if err := op.ResetLogBuffer(ctx); !errors.Is(err, device.ErrPermission) {
		t.Fatalf("operator reset: %v", err)
	}
	if err := admin.ResetLogBuffer(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(b.log.Snapshot().Entries); n != 0 {
		t.Fatalf("%d entries after reset", n)
	}
}

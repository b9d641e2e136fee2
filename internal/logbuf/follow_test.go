package logbuf

import (
	"context"
	"testing"
	"time"
)

func TestFollowEndsWithContext(t *testing.T) {
	b := New(8, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c := b.Follow(ctx, 4)
	b.Log("CLOUD", Notification, "X", "one")
	select {
	case e := <-c:
		if e.Text != "one" {
			t.Fatalf("got %q", e.Text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("entry not delivered")
	}
	cancel()
	select {
	case _, open := <-c:
		if open {
			t.Fatal("entry after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
	b.mu.Lock()
	n := len(b.subs)
	b.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d subscribers left after cancel", n)
	}
}

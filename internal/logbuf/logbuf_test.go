package logbuf

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	at := time.Date(2026, 9, 6, 10, 38, 12, 320e6, time.UTC)
	e := Entry{Time: at, Module: "CLOUD", Severity: Notification, Mnemonic: "CLOUD_ESTABLISHED", Text: "Up."}
	if got := Format(e, "S"); got != "%Sep  6 10:38:12:320 2026 S CLOUD/5/CLOUD_ESTABLISHED: Up." {
		t.Errorf("log: %q", got)
	}
	e.Severity, e.Mnemonic = Debugging, "EVENT"
	if got := Format(e, "S"); got != "*Sep  6 10:38:12:320 2026 S CLOUD/7/EVENT: Up." {
		t.Errorf("debugging: %q", got)
	}
}

// Debugging entries reach subscribers but not the ring.
func TestDebuggingNotBuffered(t *testing.T) {
	b := New(4, nil, nil)
	c, stop := b.Subscribe(4)
	defer stop()
	b.Log("CLOUD", Debugging, "EVENT", "debug")
	b.Log("CFG", Warning, "X", "log")
	if got := (<-c).Text; got != "debug" {
		t.Fatalf("first streamed %q", got)
	}
	if got := (<-c).Text; got != "log" {
		t.Fatalf("second streamed %q", got)
	}
	if s := b.Snapshot(); len(s.Entries) != 1 || s.Entries[0].Text != "log" {
		t.Fatalf("buffer %+v", s.Entries)
	}
}

func TestResize(t *testing.T) {
	b := New(DefaultSize, nil, nil)
	for i := 0; i < 10; i++ {
		b.Logf("T", Informational, "T", "%d", i)
	}
	b.Resize(3)
	s := b.Snapshot()
	if s.Size != 3 || len(s.Entries) != 3 || s.Entries[0].Text != "7" || s.Overwritten != 7 {
		t.Fatalf("after resize to 3: %+v", s)
	}
	b.Log("T", Informational, "T", "10")
	if s := b.Snapshot(); s.Entries[0].Text != "8" || s.Overwritten != 8 {
		t.Fatalf("after one more: %+v", s)
	}
	b.Resize(5000)
	if s := b.Snapshot(); s.Size != MaxSize {
		t.Fatalf("size %d, want clamped to %d", s.Size, MaxSize)
	}
	b.Resize(0)
	if s := b.Snapshot(); s.Size != DefaultSize || len(s.Entries) != 3 {
		t.Fatalf("size %d entries %d", s.Size, len(s.Entries))
	}
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers", n)
	}
}

// Package logbuf is the device's log: every event goes once into a bounded
// in-memory buffer (display logbuffer, terminal monitor, the cloud `log`
// service) and into the daemon's structured zap log. One event source, so the
// two can never disagree.
package logbuf

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/internal/device"
)

// Severities, as in Comware's info-center (0 emergency … 7 debugging).
const (
	Emergency     = 0
	Alert         = 1
	Critical      = 2
	Error         = 3
	Warning       = 4
	Notification  = 5
	Informational = 6
	Debugging     = 7
)

// DefaultSize is the default `info-center logbuffer size`; MaxSize is the
// largest size it accepts (`display logbuffer`'s "Max buffer size").
const (
	DefaultSize = 512
	MaxSize     = 1024
)

// Entry is one log event; the type is the device contract's, so that
// the grammar and the local API need not import this package.
type Entry = device.LogEntry

// Format renders e the Comware way (the log's own line form: the
// terminal, the log buffer display and the cloud's log reports use it):
// %Sep  6 10:38:12:320 2026 Sysname CLOUD/5/CLOUD_ESTABLISHED: text
// Debugging output (severity 7) starts with `*` instead of `%`, as on
// Comware: *Sep  6 10:38:12:320 2026 Sysname CLOUD/7/EVENT: text
func Format(e Entry, sysname string) string {
	t := e.Time
	prefix := "%"
	if e.Severity == Debugging {
		prefix = "*"
	}
	return fmt.Sprintf("%s%s:%03d %d %s %s/%d/%s: %s", prefix,
		t.Format("Jan _2 15:04:05"), t.Nanosecond()/1e6, t.Year(),
		sysname, e.Module, e.Severity, e.Mnemonic, e.Text)
}

// Buffer is a bounded ring of entries plus live subscribers.
type Buffer struct {
	mu          sync.Mutex
	size        int
	entries     []Entry
	seq         uint64
	overwritten uint64
	subs        map[chan Entry]struct{}
	dropped     uint64 // entries a slow subscriber missed
	zl          *zap.Logger
	now         func() time.Time
}

// New returns a buffer holding at most size entries that also logs to zl.
func New(size int, zl *zap.Logger, now func() time.Time) *Buffer {
	if size <= 0 {
		size = DefaultSize
	}
	if zl == nil {
		zl = zap.NewNop()
	}
	if now == nil {
		now = time.Now
	}
	return &Buffer{size: size, zl: zl, now: now, subs: map[chan Entry]struct{}{}}
}

// Log records one event. Text must never hold a secret.
//
// Debugging output (severity 7) goes to the subscribers (terminal monitor)
// and to zap but not into the ring: Comware's log buffer takes severities
// 0–6 by default, and debugging would push the real logs out.
func (b *Buffer) Log(module string, severity int, mnemonic, text string) {
	b.mu.Lock()
	b.seq++
	e := Entry{Seq: b.seq, Time: b.now(), Module: module, Severity: severity, Mnemonic: mnemonic, Text: text}
	if severity < Debugging {
		if len(b.entries) >= b.size {
			copy(b.entries, b.entries[1:])
			b.entries = b.entries[:len(b.entries)-1]
			b.overwritten++
		}
		b.entries = append(b.entries, e)
	}
	for c := range b.subs {
		select {
		case c <- e:
		default:
			b.dropped++
		}
	}
	b.mu.Unlock()
	b.zl.Check(levelOf(severity), text).Write(
		zap.String("module", module), zap.Int("severity", severity), zap.String("mnemonic", mnemonic))
}

// Logf is Log with a format.
func (b *Buffer) Logf(module string, severity int, mnemonic, format string, args ...any) {
	b.Log(module, severity, mnemonic, fmt.Sprintf(format, args...))
}

// Snapshot is a copy of the buffer (the contract's type).
type Snapshot = device.LogSnapshot

// Snapshot copies the buffer.
func (b *Buffer) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Snapshot{Size: b.size, Overwritten: b.overwritten, Dropped: b.dropped,
		Entries: append([]Entry(nil), b.entries...)}
}

// Reset empties the buffer (`reset logbuffer`).
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = nil
}

// Resize changes the capacity (`info-center logbuffer size`), keeping the
// newest entries; the ones dropped count as overwritten. Out-of-range sizes
// are clamped to 1–MaxSize (0 or less means DefaultSize).
func (b *Buffer) Resize(size int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	if size == b.size {
		return
	}
	b.size = size
	if over := len(b.entries) - size; over > 0 {
		b.entries = append([]Entry(nil), b.entries[over:]...)
		b.overwritten += uint64(over)
	}
}

// Subscribers is how many subscriptions are live (tests check that a
// closed stream unsubscribed).
func (b *Buffer) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Subscribe returns a channel of new entries and a function that ends the
// subscription. A subscriber that falls behind misses entries (counted)
// rather than slowing the daemon.
func (b *Buffer) Subscribe(depth int) (<-chan Entry, func()) {
	c := make(chan Entry, depth)
	b.mu.Lock()
	b.subs[c] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return c, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, c)
			b.mu.Unlock()
		})
	}
}

// Follow is Subscribe for a caller that stops by cancelling ctx: the
// returned channel delivers new entries and is closed, with the
// subscription ended, once ctx is done.
func (b *Buffer) Follow(ctx context.Context, depth int) <-chan Entry {
	in, stop := b.Subscribe(depth)
	out := make(chan Entry, depth)
	go func() {
		defer close(out)
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-in:
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

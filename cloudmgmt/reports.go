package cloudmgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// services are the service modules that ask for a sub-connection.
var services = []string{wire.ServiceTelemetry, wire.ServiceLog}

type report struct {
	seq  uint64
	time string
	data json.RawMessage
}

// reportBuf is one service's bounded buffer. Reports leave it only when
// acknowledged (cumulative report-ack) or when dropped as the oldest of a
// full buffer.
type reportBuf struct {
	svc    string
	mu     sync.Mutex
	size   int
	items  []report // ascending seq
	seq    uint64   // last assigned; never reused in one boot
	sent   uint64   // highest seq written on the current sub-connection
	full   bool
	notify chan struct{}

	droppedLimit, totalDropped, fullCount uint64

	// Incomplete delivery (Last report incomplete reason/at). stranded:
	// reports up to seq upTo were written on a sub-connection that ended
	// before acknowledging them; shown while any of them still waits in the
	// buffer, forgotten once they are acknowledged on a later one (they
	// were delivered after all). dropped: the last report dropped from a
	// full buffer, which is lost for good.
	stranded struct {
		upTo uint64
		why  string
		at   time.Time
	}
	dropsWhileFull uint64 // reports dropped since the buffer became full
	dropped        incomplete
}

// incomplete is one "Last report incomplete reason/at" candidate.
type incomplete struct {
	text string
	at   time.Time
}

func newReportBuf(svc string, size int) *reportBuf {
	return &reportBuf{svc: svc, size: size, notify: make(chan struct{}, 1)}
}

func (b *reportBuf) add(t time.Time, data json.RawMessage) {
	b.mu.Lock()
	if len(b.items) >= b.size {
		b.items = b.items[1:]
		b.droppedLimit++
		b.totalDropped++
		if !b.full {
			b.full = true
			b.fullCount++
		}
		b.dropsWhileFull++
		b.dropped = incomplete{fmt.Sprintf("%d %s reports dropped (Details:buffer of %d reports full)",
			b.dropsWhileFull, b.svc, b.size), t}
	}
	b.seq++
	b.items = append(b.items, report{seq: b.seq, time: t.UTC().Format(time.RFC3339Nano), data: data})
	if len(b.items) >= b.size && !b.full {
		b.full = true
		b.fullCount++
	}
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// ack removes everything up to and including seq.
func (b *reportBuf) ack(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := 0
	for i < len(b.items) && b.items[i].seq <= seq {
		i++
	}
	b.items = b.items[i:]
	if len(b.items) < b.size {
		b.full = false
		b.dropsWhileFull = 0
	}
}

// restart makes every unacknowledged report due again (new sub-connection).
func (b *reportBuf) restart() {
	b.mu.Lock()
	b.sent = 0
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// due returns the reports not yet written on this sub-connection, in order.
func (b *reportBuf) due() []report {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []report
	for _, r := range b.items {
		if r.seq > b.sent {
			out = append(out, r)
		}
	}
	return out
}

func (b *reportBuf) markSent(seq uint64) {
	b.mu.Lock()
	if seq > b.sent {
		b.sent = seq
	}
	b.mu.Unlock()
}

// strand records that the sub-connection ended at t (why) with the reports
// written on it not all acknowledged. They stay in the buffer and go again
// on the next sub-connection.
func (b *reportBuf) strand(why string, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.items) == 0 || b.items[0].seq > b.sent {
		return // everything written was acknowledged
	}
	b.stranded.upTo, b.stranded.why, b.stranded.at = b.sent, why, t
}

// waitingStranded is how many stranded reports are still unacknowledged.
func (b *reportBuf) waitingStranded() int {
	n := 0
	for _, r := range b.items {
		if r.seq > b.stranded.upTo {
			break
		}
		n++
	}
	return n
}

// lastIncomplete is this buffer's candidate for Last report incomplete
// reason/at: stranded reports still waiting, or the last drop, whichever
// happened later.
func (b *reportBuf) lastIncomplete() incomplete {
	last := b.dropped
	if n := b.waitingStranded(); n > 0 && !b.stranded.at.Before(last.at) {
		last = incomplete{fmt.Sprintf("%d %s reports not acknowledged yet (Details:%s)", n, b.svc, b.stranded.why),
			b.stranded.at}
	}
	return last
}

func (b *reportBuf) pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items)
}

func (b *reportBuf) addCounters(s *device.CloudStatus) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.DroppedAfterLimit += b.droppedLimit
	s.TotalDropped += b.totalDropped
	s.BufferFullCount += b.fullCount
	if last := b.lastIncomplete(); last.text != "" && last.at.After(s.LastReportIncompleteAt) {
		s.LastReportIncompleteReason, s.LastReportIncompleteAt = last.text, last.at
	}
}

// Report queues one report for service (telemetry or log). It never blocks;
// when the service's buffer is full the oldest report is dropped and
// counted. A report whose frame would exceed 64 KiB is dropped and counted
// in TotalDropped only.
func (c *Client) Report(service string, data map[string]any) {
	b := c.bufs[service]
	if data == nil {
		data = map[string]any{}
	}
	raw, err := json.Marshal(data)
	if b == nil || err != nil || len(raw) > wire.MaxBody-512 {
		why := "unknown service " + service
		if err != nil {
			why = "data not encodable: " + err.Error()
		} else if b != nil {
			why = fmt.Sprintf("report of %d bytes over 64 KiB", len(raw))
		}
		c.zl.Warn("report dropped", zap.String("service", service), zap.String("why", why))
		if b != nil {
			b.mu.Lock()
			b.totalDropped++
			b.mu.Unlock()
		}
		c.reportFailure(fmt.Sprintf("report dropped (Details:%s)", why))
		return
	}
	b.add(c.clk.Now(), raw)
}

// PendingReports is how many reports of service wait for acknowledgement.
func (c *Client) PendingReports(service string) int {
	if b := c.bufs[service]; b != nil {
		return b.pending()
	}
	return 0
}

func (c *Client) reportFailure(text string) {
	now := c.clk.Now()
	c.setStatus(func(s *device.CloudStatus) {
		s.LastReportFailureReason = text
		s.LastReportFailureAt = now
	})
}

// reportTelemetry queues one telemetry report.
func (c *Client) reportTelemetry() {
	d := map[string]any{}
	if c.o.Telemetry != nil {
		for k, v := range c.o.Telemetry() {
			d[k] = v
		}
	}
	d["sysname"] = c.o.Sysname()
	d["serial"] = c.o.Serial
	d["model"] = c.o.Model
	d["software"] = c.o.Software
	c.mu.Lock()
	if ci := c.conn; ci != nil {
		d["cloud"] = map[string]any{
			"server_domain":  ci.srv.Domain,
			"server_port":    ci.srv.Port,
			"server_address": ci.addr,
			"connected_at":   ci.connectedAt.UTC().Format(time.RFC3339),
			"mode":           c.mode(),
		}
	}
	c.mu.Unlock()
	c.Report(wire.ServiceTelemetry, d)
}

// drainLogs turns LogSource entries (severity ≤ informational) into log reports.
func (c *Client) drainLogs(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-c.o.LogSource:
			if !ok {
				return
			}
			if e.Severity > logbuf.Informational {
				continue
			}
			c.Report(wire.ServiceLog, map[string]any{
				"time": e.Time.UTC().Format(time.RFC3339Nano), "module": e.Module,
				"severity": e.Severity, "mnemonic": e.Mnemonic, "text": e.Text,
				"line": logbuf.Format(e, c.o.Sysname()),
			})
		}
	}
}

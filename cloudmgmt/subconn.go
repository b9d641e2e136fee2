package cloudmgmt

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/shortstack"
)

// Sub-connection backoff (ours): random in [1·2^k, 2·2^k] s, at most 60 s,
// k reset after a sub-connection that was up.
const (
	subBackoffBase = time.Second
	subBackoffMax  = 60 * time.Second
)

// runSub keeps the sub-connection of one service up while ctx (the main
// connection) lives. Failures here never touch the main connection.
func (c *Client) runSub(ctx context.Context, s *session, svc string, u *url.URL) {
	b := c.bufs[svc]
	k := 0
	for ctx.Err() == nil {
		dctx, cancel := context.WithCancel(ctx)
		t := c.clk.NewTimer(c.o.StepTimeout)
		done := make(chan struct{})
		go func() {
			select {
			case <-t.C():
				cancel()
			case <-done:
			}
		}()
		// the handshake's deep stack stays off this long-lived goroutine
		var ws *websocket.Conn
		var err error
		shortstack.Do(func() { ws, err = s.dialWS(dctx, u) })
		close(done)
		t.Stop()
		cancel()
		if err == nil {
			k = 0
			b.restart()
			err = c.serveSub(ctx, s, b, ws)
			why := fmt.Sprint(err)
			if ctx.Err() != nil {
				why = "main connection closed" // planned or not, the reports go again on the next one
			}
			b.strand(why, c.clk.Now())
		}
		if ctx.Err() != nil {
			return
		}
		c.reportFailure(fmt.Sprintf("%s sub-connection down (Details:%v)", svc, err))
		lo := subBackoffBase << k
		if lo > subBackoffMax/2 {
			lo = subBackoffMax / 2
		} else {
			k++
		}
		wt := c.clk.NewTimer(c.randBetween(lo, 2*lo))
		select {
		case <-ctx.Done():
			wt.Stop()
			return
		case <-wt.C():
		}
	}
}

// serveSub sends due reports in order and applies acks until the
// sub-connection or ctx ends. Dead peers are found by Pings like the main
// connection (3 missing Pongs).
func (c *Client) serveSub(ctx context.Context, s *session, b *reportBuf, ws *websocket.Conn) error {
	w := &wsConn{ws: ws, c: c}
	ws.SetPongHandler(func(string) error { w.pongSeen.Store(true); return nil })
	frames := make(chan wire.Frame, 1) // the consumer is quick; each slot is ~180 B per connection
	rerr := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.readFrames(rctx, frames, rerr) }()
	pingInt := time.Duration(s.ping) * time.Second
	pingT := c.clk.NewTimer(pingInt)
	missed := 0
	// writes (JSON, TLS) run aside: this goroutine waits for the whole life
	// of the sub-connection and would keep their stack
	shortstack.DoErr(w.ping)
	end := func(err error, code int) error {
		pingT.Stop()
		cancel()
		w.closeWith(code, "")
		<-done
		return err
	}
	for {
		if err := shortstack.DoErr(func() error { return sendDue(w, b) }); err != nil {
			return end(fmt.Errorf("%s", shortErr(err)), 0)
		}
		select {
		case <-ctx.Done():
			return end(ctx.Err(), websocket.CloseGoingAway)
		case <-b.notify:
		case err := <-rerr:
			r, code := classifyRead(err)
			if r.Details != "" {
				return end(fmt.Errorf("%s: %s", r.Kind, r.Details), code)
			}
			return end(fmt.Errorf("%s", r.Kind), code)
		case fr := <-frames:
			if fr.Type == wire.TypeReportAck {
				b.ack(fr.Seq)
			}
		case <-pingT.C():
			if w.pongSeen.Swap(false) {
				missed = 0
			} else {
				missed++
			}
			if missed >= 3 {
				return end(fmt.Errorf("ping timeout"), websocket.CloseNormalClosure)
			}
			if err := shortstack.DoErr(w.ping); err != nil {
				return end(fmt.Errorf("%s", shortErr(err)), 0)
			}
			pingT.Reset(pingInt)
		}
	}
}

// sendDue writes the buffer's due reports, in order.
func sendDue(w *wsConn, b *reportBuf) error {
	for _, r := range b.due() {
		if err := w.write(wire.Report(b.svc, r.seq, r.time, r.data)); err != nil {
			return err
		}
		b.markSent(r.seq)
	}
	return nil
}

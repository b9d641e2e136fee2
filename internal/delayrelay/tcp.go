// Package delayrelay puts a one-way delay on the path between a client and a
// server, in user space: a TCP relay that holds every chunk for the delay in
// each direction, and a UDP relay (for DNS) that holds every datagram the
// same way. It stands in for `tc … netem delay` where the kernel has no
// sch_netem: the bench measures connection paths in round trips with it.
//
// A user-space TCP relay terminates the client's connection itself, so the
// client's connect() returns at once, a round trip early. The relay puts
// that round trip back: it dials the server one delay after accepting (the
// SYN reaching the server), resets the client one more delay later when the
// server refuses, and delivers nothing in either direction before the real
// handshake would have let it through. For a client that writes as soon as
// connect returns (TLS, SSH) and a server that writes as soon as it accepts
// (an SSH banner), every byte then arrives when it would behind a link with
// the same one-way delay; only the connect call itself returns early.
package delayrelay

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// chunkSize is the most a relay reads at once: one chunk.
const chunkSize = 32 << 10

// queueLen bounds the chunks in flight per direction: when they are all
// waiting, the relay stops reading and TCP holds the sender back.
const queueLen = 256

// Dialer opens a connection to the server (the relay's upstream).
type Dialer func(ctx context.Context) (net.Conn, error)

// TCP relays every connection accepted on a listener to the server that
// Dial reaches, with Delay added to each direction.
type TCP struct {
	delay  time.Duration
	dial   Dialer
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

// NewTCP starts relaying the connections ln accepts; Close stops it.
func NewTCP(ln net.Listener, delay time.Duration, dial Dialer) *TCP {
	ctx, cancel := context.WithCancel(context.Background())
	r := &TCP{delay: delay, dial: dial, ln: ln, ctx: ctx, cancel: cancel, conns: map[net.Conn]bool{}}
	r.wg.Add(1)
	go r.accept()
	return r
}

// Addr is where clients connect.
func (r *TCP) Addr() net.Addr { return r.ln.Addr() }

// Close stops accepting, closes every relayed connection (both ends) and
// returns once every goroutine of the relay has ended.
func (r *TCP) Close() error {
	err := r.ln.Close()
	r.cancel()
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

// track records c so that Close closes it; false once the relay is closed.
func (r *TCP) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = true
	return true
}

func (r *TCP) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

func (r *TCP) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		t0 := time.Now()
		if !r.track(c) {
			return
		}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.relay(c, t0) }()
	}
}

// relay carries one connection accepted at t0. The client's bytes are read
// from the start, but none reaches the server before t0 + 3·delay (SYN,
// SYN-ACK, then the first segment), and none of the server's reaches the
// client before t0 + 4·delay (the server accepts when the client's ACK
// arrives, at t0 + 3·delay).
func (r *TCP) relay(down net.Conn, t0 time.Time) {
	defer r.untrack(down)
	// the link's goroutines end with it (cancel), the relay's with the relay
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	d := r.delay
	toUp := make(chan chunk, queueLen)
	r.wg.Add(1)
	go func() { defer r.wg.Done(); read(ctx, down, toUp, t0.Add(2*d), d) }()
	// the SYN reaches the server
	if !sleepUntil(ctx, t0.Add(d)) {
		return
	}
	up, err := r.dial(ctx)
	if err != nil {
		// the server's RST travels back
		if sleepUntil(ctx, t0.Add(2*d)) {
			reset(down)
		}
		return
	}
	if !r.track(up) {
		return
	}
	defer r.untrack(up)
	toDown := make(chan chunk, queueLen)
	r.wg.Add(1)
	go func() { defer r.wg.Done(); read(ctx, up, toDown, t0.Add(3*d), d) }()
	done := make(chan struct{})
	go func() { defer close(done); write(ctx, up, toUp) }()
	write(ctx, down, toDown)
	<-done
}

// chunk is what one read returned (data, or the read's end in err), and
// when it is to be written on the other side.
type chunk struct {
	data []byte
	err  error
	at   time.Time
}

// read reads src into chunks due delay after they were read, never before
// notBefore + delay. The last chunk carries the read's end; read returns
// after sending it (or when ctx ends).
func read(ctx context.Context, src net.Conn, out chan<- chunk, notBefore time.Time, delay time.Duration) {
	buf := make([]byte, chunkSize)
	for {
		n, err := src.Read(buf)
		at := time.Now()
		if at.Before(notBefore) {
			at = notBefore
		}
		c := chunk{at: at.Add(delay), err: err}
		if n > 0 {
			c.data = append([]byte(nil), buf[:n]...)
		}
		select {
		case out <- c:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// write writes each chunk at its time, in order, and passes the end of the
// other side on: EOF as a half-close (FIN), a reset as a reset, anything
// else as a close. After a failed write it drops the rest: the peer broke
// the connection, and its own reset travels the other way.
func write(ctx context.Context, dst net.Conn, in <-chan chunk) {
	broken := false
	for {
		var c chunk
		select {
		case c = <-in:
		case <-ctx.Done():
			return
		}
		if !sleepUntil(ctx, c.at) {
			return
		}
		if len(c.data) > 0 && !broken {
			if _, err := dst.Write(c.data); err != nil {
				broken = true
			}
		}
		if c.err == nil {
			continue
		}
		switch {
		case broken:
		case errors.Is(c.err, io.EOF):
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			} else {
				dst.Close()
			}
		case errors.Is(c.err, syscall.ECONNRESET):
			reset(dst)
		default:
			dst.Close()
		}
		return
	}
}

// reset closes c with an RST (SO_LINGER 0) where it is TCP.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

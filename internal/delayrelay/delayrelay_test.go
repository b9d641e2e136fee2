package delayrelay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests check lower bounds only (a byte never arrives before its
// delay): load on the machine can make a relay late, never early. How
// little the relay itself adds is a bench figure (cmd/netdevd-bench, rtt).

const testDelay = 40 * time.Millisecond

// server accepts on loopback and hands each connection to handle.
func server(t *testing.T, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln
}

func dialTo(addr string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// relayTo starts a TCP relay with delay d in front of addr.
func relayTo(t *testing.T, addr string, d time.Duration) *TCP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := NewTCP(ln, d, dialTo(addr))
	t.Cleanup(func() { r.Close() })
	return r
}

// A byte reaches the server no sooner than the handshake's round trip plus
// the delay after the client started to connect, and one delay after it
// was written; the answer reaches the client one delay after the server
// wrote it.
func TestTCPDelaysBothWays(t *testing.T) {
	type stamp struct {
		got, sent time.Time
		err       error
	}
	at := make(chan stamp, 1)
	srv := server(t, func(c net.Conn) {
		defer c.Close()
		b := make([]byte, 4)
		_, err := io.ReadFull(c, b)
		got := time.Now()
		sent := time.Now()
		if err == nil {
			_, err = c.Write([]byte("pong"))
		}
		at <- stamp{got, sent, err}
	})
	r := relayTo(t, srv.Addr().String(), testDelay)
	start := time.Now()
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wrote := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "pong" {
		t.Fatalf("read %q, %v", b, err)
	}
	back := time.Now()
	s := <-at
	if s.err != nil {
		t.Fatal(s.err)
	}
	if d := s.got.Sub(start); d < 3*testDelay {
		t.Errorf("first byte at the server %v after connect began, want ≥ 3 delays (SYN, SYN-ACK, data)", d)
	}
	if d := s.got.Sub(wrote); d < testDelay {
		t.Errorf("client → server in %v, want ≥ %v", d, testDelay)
	}
	if d := back.Sub(s.sent); d < testDelay {
		t.Errorf("server → client in %v, want ≥ %v", d, testDelay)
	}
	if d := back.Sub(start); d < 4*testDelay {
		t.Errorf("connect + one exchange took %v, want ≥ 2 round trips", d)
	}
}

// A server that writes first (an SSH banner) is heard no sooner than two
// round trips after the client began to connect: it accepts when the
// client's ACK arrives.
func TestTCPServerFirstBytes(t *testing.T) {
	srv := server(t, func(c net.Conn) {
		defer c.Close()
		c.Write([]byte("SSH-2.0-x\r\n"))
		io.Copy(io.Discard, c)
	})
	r := relayTo(t, srv.Addr().String(), testDelay)
	start := time.Now()
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := make([]byte, 11)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 4*testDelay {
		t.Errorf("banner after %v, want ≥ 4 delays", d)
	}
}

// Many writes of random sizes both ways arrive whole and in order (an echo
// server sends everything back).
func TestTCPKeepsOrder(t *testing.T) {
	srv := server(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(c, c)
	})
	for _, d := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			r := relayTo(t, srv.Addr().String(), d)
			c, err := net.Dial("tcp", r.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			want := make([]byte, 2<<20)
			for i := range want {
				want[i] = byte(i*7 + i>>11)
			}
			werr := make(chan error, 1)
			go func() {
				rest := want
				for len(rest) > 0 {
					n := min(len(rest), 1+rand.IntN(40000))
					if _, err := c.Write(rest[:n]); err != nil {
						werr <- err
						return
					}
					rest = rest[n:]
				}
				werr <- c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-werr; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("echo differs: %d bytes back of %d", len(got), len(want))
			}
		})
	}
}

// The ends travel too: the client's half-close reaches the server as EOF
// (no sooner than the delay), the server's close reaches the client as EOF,
// and a server's reset reaches the client as a reset.
func TestTCPPropagatesClose(t *testing.T) {
	eofAt := make(chan time.Time, 1)
	srv := server(t, func(c net.Conn) {
		io.Copy(io.Discard, c)
		eofAt <- time.Now()
		c.Write([]byte("bye"))
		c.Close()
	})
	r := relayTo(t, srv.Addr().String(), testDelay)
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	closed := time.Now()
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "bye" {
		t.Fatalf("after the server's close: %q, %v", got, err)
	}
	if d := (<-eofAt).Sub(closed); d < testDelay {
		t.Errorf("half-close reached the server after %v, want ≥ %v", d, testDelay)
	}

	rstSrv := server(t, func(c net.Conn) {
		b := make([]byte, 1)
		c.Read(b)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	r2 := relayTo(t, rstSrv.Addr().String(), testDelay)
	c2, err := net.Dial("tcp", r2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("x"))
	_, err = c2.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after the server's reset the client read %v, want connection reset", err)
	}
}

// A server that refuses the connection resets the client one round trip
// after it began to connect, as the RST would.
func TestTCPRefusedIsReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	r := relayTo(t, addr, testDelay)
	start := time.Now()
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	_, err = c.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read %v, want connection reset", err)
	}
	if d := time.Since(start); d < 2*testDelay {
		t.Errorf("reset after %v, want ≥ one round trip", d)
	}
}

// Close ends every relayed connection and every goroutine of the relay.
func TestTCPCloseEndsEverything(t *testing.T) {
	srv := server(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(c, c)
	})
	before := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := NewTCP(ln, testDelay, dialTo(srv.Addr().String()))
	var cs []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("in flight"))
		cs = append(cs, c)
	}
	// one connection carries data to the end, so the others are mid-way
	buf := make([]byte, 9)
	if _, err := io.ReadFull(cs[0], buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	for i, c := range cs {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("conn %d after Close: %v", i, err)
		}
	}
	if _, err := net.Dial("tcp", r.Addr().String()); err == nil {
		t.Error("the relay still accepts after Close")
	}
	// the relay's goroutines are gone once Close returned; the echo
	// server's end as their connections close
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want ≤ %d\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// udpEcho answers every datagram with "re:" + the datagram.
func udpEcho(t *testing.T, got chan<- time.Time) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			if got != nil {
				got <- time.Now()
			}
			pc.WriteTo(append([]byte("re:"), b[:n]...), from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc
}

func udpRelayTo(t *testing.T, addr string, d time.Duration) *UDP {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := NewUDP(pc, d, func(ctx context.Context) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", addr)
	})
	t.Cleanup(func() { r.Close() })
	return r
}

// A datagram reaches the server one delay after it was sent, and the
// answer comes back to the client that asked one delay later.
func TestUDPDelaysBothWaysToTheRightClient(t *testing.T) {
	got := make(chan time.Time, 16)
	srv := udpEcho(t, got)
	r := udpRelayTo(t, srv.LocalAddr().String(), testDelay)
	var clients []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("udp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for i, c := range clients {
		sent := time.Now()
		msg := fmt.Sprintf("query %d", i)
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, 64)
		n, err := c.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		if string(b[:n]) != "re:"+msg {
			t.Fatalf("client %d got %q", i, b[:n])
		}
		at := <-got
		if d := at.Sub(sent); d < testDelay {
			t.Errorf("client → server in %v, want ≥ %v", d, testDelay)
		}
		if d := back.Sub(at); d < testDelay {
			t.Errorf("server → client in %v, want ≥ %v", d, testDelay)
		}
	}
}

// Datagrams of one client arrive in the order sent, both ways; Close ends
// the relay's goroutines.
func TestUDPKeepsOrder(t *testing.T) {
	srv := udpEcho(t, nil)
	before := runtime.NumGoroutine()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := NewUDP(pc, 2*time.Millisecond, func(ctx context.Context) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", srv.LocalAddr().String())
	})
	c, err := net.Dial("udp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 50 // under the socket buffers and the relay's queue
	for i := 0; i < n; i++ {
		c.Write([]byte(fmt.Sprint(i)))
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 64)
	for i := 0; i < n; i++ {
		k, err := c.Read(b)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if want := "re:" + fmt.Sprint(i); string(b[:k]) != want {
			t.Fatalf("answer %d is %q, want %q", i, b[:k], want)
		}
	}
	r.Close()
	waitGoroutines(t, before)
}

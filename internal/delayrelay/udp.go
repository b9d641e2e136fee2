package delayrelay

import (
	"context"
	"net"
	"sync"
	"time"
)

// udpIdle is how long a client's session (its socket to the server) lives
// without a datagram either way. A DNS client uses a new port per query,
// so sessions come and go.
const udpIdle = 30 * time.Second

// PacketDialer opens a connected socket to the server for one client.
type PacketDialer func(ctx context.Context) (net.Conn, error)

// UDP relays datagrams between the clients of pc and the server that Dial
// reaches, each held for Delay each way. Every client address gets its own
// socket to the server, so answers go back to the client that asked.
type UDP struct {
	delay    time.Duration
	dial     PacketDialer
	pc       net.PacketConn
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	toServer chan datagram
	toClient chan datagram
	mu       sync.Mutex
	sessions map[string]net.Conn
}

// datagram is one datagram, its client and when it is due on the other side.
type datagram struct {
	data   []byte
	client net.Addr
	at     time.Time
}

// NewUDP starts relaying the datagrams pc receives; Close stops it.
func NewUDP(pc net.PacketConn, delay time.Duration, dial PacketDialer) *UDP {
	ctx, cancel := context.WithCancel(context.Background())
	r := &UDP{delay: delay, dial: dial, pc: pc, ctx: ctx, cancel: cancel,
		toServer: make(chan datagram, queueLen), toClient: make(chan datagram, queueLen),
		sessions: map[string]net.Conn{}}
	r.wg.Add(3)
	go func() { defer r.wg.Done(); r.readClients() }()
	go func() { defer r.wg.Done(); r.sendToServer() }()
	go func() { defer r.wg.Done(); r.sendToClients() }()
	return r
}

// Addr is where clients send.
func (r *UDP) Addr() net.Addr { return r.pc.LocalAddr() }

// Close stops the relay and returns once all its goroutines have ended.
func (r *UDP) Close() error {
	r.cancel()
	err := r.pc.Close()
	r.mu.Lock()
	for _, c := range r.sessions {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

// enqueue queues d, or drops it when the queue is full (a router's queue).
func (r *UDP) enqueue(q chan<- datagram, d datagram) {
	select {
	case q <- d:
	default:
	}
}

func (r *UDP) readClients() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		r.enqueue(r.toServer, datagram{data: append([]byte(nil), buf[:n]...), client: from,
			at: time.Now().Add(r.delay)})
	}
}

// sendToServer sends each client datagram at its time on the client's
// session, opening the session at its first datagram.
func (r *UDP) sendToServer() {
	for {
		var d datagram
		select {
		case d = <-r.toServer:
		case <-r.ctx.Done():
			return
		}
		if !sleepUntil(r.ctx, d.at) {
			return
		}
		if s := r.session(d.client); s != nil {
			s.Write(d.data)
		}
	}
}

// session is the client's socket to the server (nil if it cannot be made).
func (r *UDP) session(client net.Addr) net.Conn {
	key := client.String()
	r.mu.Lock()
	s := r.sessions[key]
	r.mu.Unlock()
	if s != nil {
		return s
	}
	s, err := r.dial(r.ctx)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		s.Close()
		return nil
	}
	r.sessions[key] = s
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.readServer(key, s, client) }()
	return s
}

// readServer queues the server's answers to client until the session has
// been idle for udpIdle or the relay closes.
func (r *UDP) readServer(key string, s net.Conn, client net.Addr) {
	defer func() {
		r.mu.Lock()
		delete(r.sessions, key)
		r.mu.Unlock()
		s.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		s.SetReadDeadline(time.Now().Add(udpIdle))
		n, err := s.Read(buf)
		if err != nil {
			return
		}
		r.enqueue(r.toClient, datagram{data: append([]byte(nil), buf[:n]...), client: client,
			at: time.Now().Add(r.delay)})
	}
}

func (r *UDP) sendToClients() {
	for {
		var d datagram
		select {
		case d = <-r.toClient:
		case <-r.ctx.Done():
			return
		}
		if !sleepUntil(r.ctx, d.at) {
			return
		}
		r.pc.WriteTo(d.data, d.client)
	}
}

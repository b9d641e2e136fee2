// Package probe sends the device's ping and tracert probes: ICMP echo
// requests, and UDP datagrams with growing TTLs, whose answers (echo
// replies, ICMP time exceeded and destination unreachable) come back on a
// raw ICMP socket. Messages and IPv4 headers are built and parsed with
// golang.org/x/net/icmp and ipv4; nothing here encodes a packet by hand.
//
// A raw socket needs CAP_NET_RAW: root has it, and the systemd unit grants
// it (configs/netdevd.service). Every socket is opened in the network
// namespace of the calling process, the daemon's.
//
// Timeouts and intervals run on the injected clock; round-trip times are
// the clock's Now at receipt minus at sending (the wall clock's monotonic
// reading in production).
package probe

import (
	"context"
	"encoding/binary"
	"errors"

	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/device"
)

// Options configures a Prober; the zero value works.
type Options struct {
	Clock clock.Clock
	// NewID returns a 16-bit ICMP echo identifier for one ping (default:
	// random). Every raw ICMP socket sees every ICMP packet, so concurrent
	// pings (and the system's ping) tell their replies apart by it.
	NewID func() int

	// Tests: sockets other than the kernel's.
	listenICMP func(src netip.Addr) (icmpConn, error)
	listenUDP  func() (udpSender, error)
}

// Prober sends probes. It is safe for concurrent use.
type Prober struct {
	o Options
}

// New returns a Prober.
func New(o Options) *Prober {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.NewID == nil {
		o.NewID = func() int { return rand.N(1 << 16) }
	}
	if o.listenICMP == nil {
		o.listenICMP = listenRawICMP
	}
	if o.listenUDP == nil {
		o.listenUDP = listenUDP
	}
	return &Prober{o: o}
}

// ErrNoPermission is returned when the raw ICMP socket may not be opened.
var ErrNoPermission = errors.New("ping and tracert need CAP_NET_RAW (run as root or with the systemd unit's capabilities)")

// ErrSourceNotLocal is returned for a source address the device does not have.
var ErrSourceNotLocal = device.Message("The source IP address is not an address of this device.")

// icmpConn is a raw ICMP socket: it sends ICMP messages and receives every
// ICMP message addressed to the host, with the TTL it arrived with and
// when it arrived (zero: the caller takes the clock's Now).
type icmpConn interface {
	WriteTo(b []byte, dst netip.Addr) error
	ReadFrom(b []byte) (n, ttl int, src netip.Addr, at time.Time, err error)
	Close() error
}

// rawICMP is the kernel's raw socket. It reads with recvmsg: the datagram
// comes with its IPv4 header (parsed by x/net/ipv4, for the TTL) and the
// kernel's receive timestamp (SO_TIMESTAMPNS), so that a round-trip time
// does not include the wake-up of the reading goroutine, as iputils' ping
// does not.
type rawICMP struct {
	c   *net.IPConn
	buf []byte
	oob []byte
}

func listenRawICMP(src netip.Addr) (icmpConn, error) {
	addr := "0.0.0.0"
	if src.IsValid() {
		addr = src.String()
	}
	pc, err := net.ListenPacket("ip4:icmp", addr)
	switch {
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
		return nil, ErrNoPermission
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, ErrSourceNotLocal
	case err != nil:
		return nil, err
	}
	c := pc.(*net.IPConn)
	if err := setTimestamps(c); err != nil {
		c.Close()
		return nil, err
	}
	return &rawICMP{c: c, buf: make([]byte, 65536), oob: make([]byte, 128)}, nil
}

// setTimestamps turns on SO_TIMESTAMPNS.
func setTimestamps(c *net.IPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) })
	return errors.Join(err, serr)
}

func (r *rawICMP) WriteTo(b []byte, dst netip.Addr) error {
	_, err := r.c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()})
	return err
}

// ReadFrom copies the ICMP message (without the IPv4 header) into b.
func (r *rawICMP) ReadFrom(b []byte) (int, int, netip.Addr, time.Time, error) {
	for {
		n, oobn, _, from, err := r.c.ReadMsgIP(r.buf, r.oob)
		if err != nil {
			return 0, 0, netip.Addr{}, time.Time{}, err
		}
		h, err := ipv4.ParseHeader(r.buf[:n])
		if err != nil || h.Len > n {
			continue // not an IPv4 datagram we can read
		}
		src, _ := netip.AddrFromSlice(from.IP.To4())
		return copy(b, r.buf[h.Len:n]), h.TTL, src, receiveTime(r.oob[:oobn]), nil
	}
}

// receiveTime is the SO_TIMESTAMPNS control message's time (zero if none).
func receiveTime(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		switch len(m.Data) { // struct timespec: 64-bit fields, or 32-bit ones
		case 16:
			return time.Unix(int64(binary.NativeEndian.Uint64(m.Data[0:8])), int64(binary.NativeEndian.Uint64(m.Data[8:16])))
		case 8:
			return time.Unix(int64(int32(binary.NativeEndian.Uint32(m.Data[0:4]))), int64(int32(binary.NativeEndian.Uint32(m.Data[4:8]))))
		}
	}
	return time.Time{}
}

func (r *rawICMP) Close() error { return r.c.Close() }

// udpSender sends tracert's UDP probes from one local port.
type udpSender interface {
	Send(b []byte, ttl int, dst netip.AddrPort) error
	LocalPort() int
	Close() error
}

// udpProbe is tracert's UDP socket; the TTL is set per probe.
type udpProbe struct {
	c  *net.UDPConn
	p4 *ipv4.PacketConn
}

func listenUDP() (udpSender, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return nil, err
	}
	return &udpProbe{c: c, p4: ipv4.NewPacketConn(c)}, nil
}

func (u *udpProbe) Send(b []byte, ttl int, dst netip.AddrPort) error {
	if err := u.p4.SetTTL(ttl); err != nil {
		return err
	}
	_, err := u.c.WriteToUDPAddrPort(b, dst)
	return err
}

func (u *udpProbe) LocalPort() int { return u.c.LocalAddr().(*net.UDPAddr).Port }
func (u *udpProbe) Close() error   { return u.c.Close() }

// packet is one ICMP message received, parsed.
type packet struct {
	msg  *icmp.Message
	from netip.Addr
	ttl  int
	at   time.Time
	size int // bytes after the ICMP header
}

// receiver reads c until it is closed and hands each parsed message to
// the probe's loop. Its goroutine ends when c is closed (close waits).
type receiver struct {
	c    icmpConn
	in   chan packet
	done chan struct{}
	once sync.Once
}

func (p *Prober) receive(c icmpConn) *receiver {
	r := &receiver{c: c, in: make(chan packet, 64), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			n, ttl, from, at, err := c.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			if at.IsZero() {
				at = p.o.Clock.Now()
			}
			m, err := icmp.ParseMessage(1, buf[:n]) // 1: ICMP for IPv4
			if err != nil {
				continue
			}
			select {
			case r.in <- packet{msg: m, from: from, ttl: ttl, at: at, size: max(0, n-4)}:
			default: // the loop is behind: a flood of foreign ICMP is dropped
			}
		}
	}()
	return r
}

// close closes the socket and waits for the reading goroutine.
func (r *receiver) close() {
	r.once.Do(func() { r.c.Close() })
	<-r.done
}

// wait waits up to d on the clock for a packet accepted by match, which
// returns true for the packet it was waiting for. It returns false on
// timeout; ctx ending returns false too.
func (p *Prober) wait(ctx context.Context, r *receiver, d time.Duration, match func(packet) bool) (packet, bool) {
	t := p.o.Clock.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return packet{}, false
		case <-t.C():
			return packet{}, false
		case pk := <-r.in:
			if match(pk) {
				return pk, true
			}
		}
	}
}

// sleep waits d on the clock; false when ctx ended first.
func (p *Prober) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := p.o.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

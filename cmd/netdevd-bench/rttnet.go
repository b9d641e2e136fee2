package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netns"

	"github.com/netdevd/netdevd/internal/delayrelay"
)

// relays owns the delay relays of one measurement: Close closes them all.
type relays struct {
	closers []interface{ Close() error }
}

func (r *relays) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i].Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	r.closers = nil
	return errors.Join(errs...)
}

// tcp starts a TCP relay with one-way delay d on listen (host:port, port 0
// = any) in front of target; ns is the network namespace of both ("" =
// the bench's own).
func (r *relays) tcp(ns, listen, target string, d time.Duration) (*delayrelay.TCP, error) {
	var ln net.Listener
	err := inNetns(ns, func() (err error) {
		ln, err = net.Listen("tcp", listen)
		return err
	})
	if err != nil {
		return nil, err
	}
	t := delayrelay.NewTCP(ln, d, func(ctx context.Context) (c net.Conn, err error) {
		err = inNetns(ns, func() (err error) {
			var dl net.Dialer
			c, err = dl.DialContext(ctx, "tcp", target)
			return err
		})
		return c, err
	})
	r.closers = append(r.closers, t)
	return t, nil
}

// udp starts a UDP relay with one-way delay d on listen in front of target.
func (r *relays) udp(ns, listen, target string, d time.Duration) (*delayrelay.UDP, error) {
	var pc net.PacketConn
	err := inNetns(ns, func() (err error) {
		pc, err = net.ListenPacket("udp", listen)
		return err
	})
	if err != nil {
		return nil, err
	}
	u := delayrelay.NewUDP(pc, d, func(ctx context.Context) (c net.Conn, err error) {
		err = inNetns(ns, func() (err error) {
			var dl net.Dialer
			c, err = dl.DialContext(ctx, "udp", target)
			return err
		})
		return c, err
	})
	r.closers = append(r.closers, u)
	return u, nil
}

// inNetns runs fn on an OS thread of its own moved into the named network
// namespace, so that the sockets fn opens belong to that namespace ("" =
// here, no thread of its own). A thread that cannot be moved back ends
// with its goroutine (it stays locked).
func inNetns(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// benchDNS is the controllers' DNS server: A answers with a fixed TTL for
// the names it was given, NXDOMAIN otherwise. It counts the A queries.
type benchDNS struct {
	srv     *dns.Server
	addr    string
	ttl     uint32
	mu      sync.Mutex
	names   map[string]netip.Addr
	queries atomic.Int64
}

func startBenchDNS(ttl uint32) (*benchDNS, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &benchDNS{addr: pc.LocalAddr().String(), ttl: ttl, names: map[string]netip.Addr{}}
	started := make(chan struct{})
	b.srv = &dns.Server{PacketConn: pc, Handler: b, NotifyStartedFunc: func() { close(started) }}
	errc := make(chan error, 1)
	go func() { errc <- b.srv.ActivateAndServe() }()
	select {
	case <-started:
		return b, nil
	case err := <-errc:
		return nil, err
	}
}

func (b *benchDNS) Close() error { return b.srv.Shutdown() }

// set makes name answer a.
func (b *benchDNS) set(name string, a netip.Addr) {
	b.mu.Lock()
	b.names[strings.ToLower(dns.Fqdn(name))] = a
	b.mu.Unlock()
}

func (b *benchDNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) == 1 {
		qn := q.Question[0]
		b.mu.Lock()
		a, ok := b.names[strings.ToLower(qn.Name)]
		b.mu.Unlock()
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case qn.Qtype == dns.TypeA:
			b.queries.Add(1)
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qn.Name, Rrtype: dns.TypeA,
				Class: dns.ClassINET, Ttl: b.ttl}, A: a.AsSlice()})
		}
	}
	w.WriteMsg(m)
}

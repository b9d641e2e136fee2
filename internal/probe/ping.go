package probe

import (
	"context"
	"errors"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/netdevd/netdevd/internal/device"
)

// Ping sends req.Count echo requests to req.Dest, one at a time: each waits
// up to req.Timeout for its reply, then req.Interval passes before the next
// (Comware's -m). It streams one PingReply per request and closes the
// channel when the count is done or ctx ends. The socket is opened before
// Ping returns, so a missing capability or a source address the device
// does not have is an error here.
func (p *Prober) Ping(ctx context.Context, req device.PingRequest) (<-chan device.PingReply, error) {
	if !req.Dest.Is4() {
		return nil, errors.New("ping: not an IPv4 address")
	}
	c, err := p.o.listenICMP(req.Source)
	if err != nil {
		return nil, err
	}
	r := p.receive(c)
	out := make(chan device.PingReply)
	go func() {
		defer close(out)
		defer r.close()
		p.pingLoop(ctx, r, req, p.o.NewID()&0xffff, out)
	}()
	return out, nil
}

func (p *Prober) pingLoop(ctx context.Context, r *receiver, req device.PingRequest, id int, out chan<- device.PingReply) {
	data := make([]byte, req.Size)
	for i := range data {
		data[i] = byte(i%255 + 1) // Comware's default pad: 0x01, 0x02, …
	}
	for seq := 0; seq < req.Count; seq++ {
		reply := p.echo(ctx, r, req, id, seq, data)
		if ctx.Err() != nil {
			return // interrupted: this request has no outcome
		}
		select {
		case out <- reply:
		case <-ctx.Done():
			return
		}
		if seq < req.Count-1 && !p.sleep(ctx, req.Interval) {
			return
		}
	}
}

// echo sends one request and waits for its reply.
func (p *Prober) echo(ctx context.Context, r *receiver, req device.PingRequest, id, seq int, data []byte) device.PingReply {
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq & 0xffff, Data: data}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return device.PingReply{Seq: seq, Error: err.Error()}
	}
	sent := p.o.Clock.Now()
	if err := r.c.WriteTo(b, req.Dest); err != nil {
		// No route, for one: nothing will come back. Comware counts it as
		// a request that timed out.
		return device.PingReply{Seq: seq, Error: err.Error()}
	}
	pk, ok := p.wait(ctx, r, req.Timeout, func(pk packet) bool {
		e, isEcho := pk.msg.Body.(*icmp.Echo)
		return pk.msg.Type == ipv4.ICMPTypeEchoReply && isEcho && e.ID == id && e.Seq == seq&0xffff && pk.from == req.Dest
	})
	if !ok {
		return device.PingReply{Seq: seq, Timeout: true}
	}
	e := pk.msg.Body.(*icmp.Echo)
	return device.PingReply{Seq: seq, From: pk.from, Bytes: len(e.Data), TTL: pk.ttl, RTT: pk.at.Sub(sent)}
}

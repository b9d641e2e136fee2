package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/netdevd/netdevd/internal/device"
)

// tracert's UDP probes: traceroute's ports, 12 bytes of data (40-byte
// packets with the IP and UDP headers, as Comware announces).
const (
	traceBasePort = 33434
	traceData     = 12
)

// Trace sends req.Probes UDP probes per TTL from req.FirstTTL to req.MaxTTL,
// one at a time, each waiting up to req.Timeout for the ICMP message it
// causes: time exceeded from a router on the way, port unreachable from
// the target (the trace ends at that hop), another destination
// unreachable (marked !N, !H, !P, !F or !X; the trace ends there too). It
// streams one TracertProbe per probe and closes the channel when the trace
// is done or ctx ends.
func (p *Prober) Trace(ctx context.Context, req device.TracertRequest) (<-chan device.TracertProbe, error) {
	if !req.Dest.Is4() {
		return nil, errors.New("tracert: not an IPv4 address")
	}
	c, err := p.o.listenICMP(netip.Addr{})
	if err != nil {
		return nil, err
	}
	u, err := p.o.listenUDP()
	if err != nil {
		c.Close()
		return nil, err
	}
	r := p.receive(c)
	out := make(chan device.TracertProbe)
	go func() {
		defer close(out)
		defer u.Close()
		defer r.close()
		p.traceLoop(ctx, r, u, req, out)
	}()
	return out, nil
}

func (p *Prober) traceLoop(ctx context.Context, r *receiver, u udpSender, req device.TracertRequest, out chan<- device.TracertProbe) {
	port := traceBasePort
	for ttl := max(1, req.FirstTTL); ttl <= req.MaxTTL; ttl++ {
		done := false
		for i := 0; i < req.Probes; i++ {
			pr := p.traceProbe(ctx, r, u, req, ttl, port)
			port++
			if ctx.Err() != nil {
				return
			}
			pr.Index = i
			done = done || pr.Last
			pr.Last = done && i == req.Probes-1
			select {
			case out <- pr:
			case <-ctx.Done():
				return
			}
		}
		if done {
			return
		}
	}
}

// traceProbe sends one probe to port with ttl and waits for its answer.
// Last is set when the answer ends the trace.
func (p *Prober) traceProbe(ctx context.Context, r *receiver, u udpSender, req device.TracertRequest, ttl, port int) device.TracertProbe {
	pr := device.TracertProbe{TTL: ttl}
	sent := p.o.Clock.Now()
	if err := u.Send(make([]byte, traceData), ttl, netip.AddrPortFrom(req.Dest, uint16(port))); err != nil {
		pr.Timeout = true
		return pr
	}
	local := u.LocalPort()
	pk, ok := p.wait(ctx, r, req.Timeout, func(pk packet) bool { return quotesProbe(pk.msg, req.Dest, local, port) })
	if !ok {
		pr.Timeout = true
		return pr
	}
	pr.From, pr.RTT = pk.from, pk.at.Sub(sent)
	if pk.msg.Type == ipv4.ICMPTypeDestinationUnreachable {
		pr.Last = true
		if pk.msg.Code != 3 || pk.from != req.Dest {
			pr.Note = unreachableNote(pk.msg.Code)
		}
	}
	return pr
}

// quotesProbe reports whether m is a time exceeded or destination
// unreachable message about our probe: the datagram it quotes went to
// dest, over UDP, from our local port to port.
func quotesProbe(m *icmp.Message, dest netip.Addr, local, port int) bool {
	var data []byte
	switch b := m.Body.(type) {
	case *icmp.TimeExceeded:
		data = b.Data
	case *icmp.DstUnreach:
		data = b.Data
	default:
		return false
	}
	h, err := ipv4.ParseHeader(data)
	if err != nil || h.Protocol != 17 || len(data) < h.Len+4 {
		return false
	}
	dst, _ := netip.AddrFromSlice(h.Dst.To4())
	udp := data[h.Len:]
	return dst == dest && int(binary.BigEndian.Uint16(udp[0:2])) == local && int(binary.BigEndian.Uint16(udp[2:4])) == port
}

// unreachableNote is traceroute's mark for an ICMP unreachable code.
func unreachableNote(code int) string {
	switch code {
	case 0:
		return "!N"
	case 1:
		return "!H"
	case 2:
		return "!P"
	case 3:
		return "" // port unreachable from another address than the target
	case 4:
		return "!F"
	case 9, 10, 13:
		return "!X"
	}
	return "!<" + strconv.Itoa(code) + ">"
}

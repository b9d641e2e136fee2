package shell

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// memDevice's network: no interface to speak of; its ping answers every
// 200 ms until the count is done or ctx ends (Ctrl+C), so that a terminal
// test can interrupt it.

func (d *memDevice) Interface(context.Context) (device.InterfaceStatus, error) {
	return device.InterfaceStatus{Name: "Vlan-interface1"}, nil
}
func (d *memDevice) Routes(context.Context) ([]device.Route, error)       { return nil, nil }
func (d *memDevice) Neighbors(context.Context) ([]device.Neighbor, error) { return nil, nil }
func (d *memDevice) ResolveHost(context.Context, string) (netip.Addr, error) {
	return netip.Addr{}, errors.New("no DNS server configured")
}

func (d *memDevice) Ping(ctx context.Context, req device.PingRequest) (<-chan device.PingReply, error) {
	ch := make(chan device.PingReply)
	go func() {
		defer close(ch)
		for seq := 0; seq < req.Count; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond): // Comware's interval: the terminal test sees quiet gaps
			}
			select {
			case ch <- device.PingReply{Seq: seq, From: req.Dest, Bytes: req.Size, TTL: 64, RTT: time.Millisecond}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (d *memDevice) Tracert(context.Context, device.TracertRequest) (<-chan device.TracertProbe, error) {
	ch := make(chan device.TracertProbe)
	close(ch)
	return ch, nil
}

package cli

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/netdevd/netdevd/internal/device"
)

// fakeNetwork is what the fake device reports for the network displays and
// plays back for ping and tracert.
type fakeNetwork struct {
	iface     device.InterfaceStatus
	routes    []device.Route
	neighbors []device.Neighbor
	hosts     map[string]netip.Addr // names ResolveHost knows
	replies   []device.PingReply    // played back by Ping, one per request
	probes    []device.TracertProbe // played back by Tracert
	pings     []device.PingRequest  // requests received
	traces    []device.TracertRequest
	// stopAfter cancels nothing itself: Ping sends this many replies and
	// then waits for ctx to end (an interrupted ping); 0 = send them all.
	stopAfter int
}

func (d *fakeDevice) Interface(context.Context) (device.InterfaceStatus, error) {
	return d.net.iface, d.check()
}

func (d *fakeDevice) Routes(context.Context) ([]device.Route, error) { return d.net.routes, d.check() }

func (d *fakeDevice) Neighbors(context.Context) ([]device.Neighbor, error) {
	return d.net.neighbors, d.check()
}

func (d *fakeDevice) ResolveHost(_ context.Context, name string) (netip.Addr, error) {
	if a, ok := d.net.hosts[strings.ToLower(name)]; ok {
		return a, nil
	}
	return netip.Addr{}, errors.New("no answer from 192.0.2.53")
}

func (d *fakeDevice) Ping(ctx context.Context, req device.PingRequest) (<-chan device.PingReply, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	d.net.pings = append(d.net.pings, req)
	replies := d.net.replies
	if len(replies) > req.Count {
		replies = replies[:req.Count]
	}
	ch := make(chan device.PingReply, len(replies))
	for i, r := range replies {
		if d.net.stopAfter > 0 && i == d.net.stopAfter {
			go func() { <-ctx.Done(); close(ch) }()
			return ch, nil
		}
		ch <- r
	}
	close(ch)
	return ch, nil
}

func (d *fakeDevice) Tracert(_ context.Context, req device.TracertRequest) (<-chan device.TracertProbe, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	d.net.traces = append(d.net.traces, req)
	ch := make(chan device.TracertProbe, len(d.net.probes))
	for _, p := range d.net.probes {
		ch <- p
	}
	close(ch)
	return ch, nil
}

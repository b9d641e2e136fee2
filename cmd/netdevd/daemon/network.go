package daemon

// The Network role: Vlan-interface1's static address and routes
// (internal/netif keeps the kernel as configured), the displays' data,
// name resolution through the cloud connection's resolver, and ping and
// tracert (internal/probe).

import (
	"context"
	"errors"
	"net/netip"

	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/netif"
	"github.com/netdevd/netdevd/internal/probe"
)

// newNetwork builds the network features; the manager starts under run.
func (d *Daemon) newNetwork(run func(string, func(context.Context) error)) {
	d.features.net = netif.New(netif.Options{
		Interface: d.opts.VlanInterface1, Clock: d.clock, Log: d.log, Zap: d.zap,
	})
	d.features.probe = probe.New(probe.Options{Clock: d.clock})
	run("Vlan-interface1", d.features.net.Run)
}

// errNoResolver answers a name lookup before the cloud connection exists.
var errNoResolver = errors.New("name resolution is not running yet")

func (v callerView) Interface(context.Context) (device.InterfaceStatus, error) {
	if v.d.features.net == nil {
		return device.InterfaceStatus{Name: netif.Name, LinuxName: v.d.opts.VlanInterface1}, nil
	}
	return v.d.features.net.Interface(), nil
}

func (v callerView) Routes(context.Context) ([]device.Route, error) {
	if v.d.features.net == nil {
		return nil, nil
	}
	return v.d.features.net.Routes(), nil
}

func (v callerView) Neighbors(context.Context) ([]device.Neighbor, error) {
	if v.d.features.net == nil {
		return nil, nil
	}
	return v.d.features.net.Neighbors(), nil
}

// ResolveHost resolves the way the cloud connection does (`ip host`, `dns
// server`, DHCP option 6): one resolver for the device.
func (v callerView) ResolveHost(ctx context.Context, name string) (netip.Addr, error) {
	if v.d.features.cloud == nil {
		return netip.Addr{}, errNoResolver
	}
	return v.d.features.cloud.Resolve(ctx, name)
}

// Ping and Tracert are network-admin's, as on Comware.
func (v callerView) Ping(ctx context.Context, req device.PingRequest) (<-chan device.PingReply, error) {
	if err := v.mayWrite(); err != nil {
		return nil, err
	}
	if v.d.features.probe == nil {
		return nil, errNotRunning
	}
	return v.d.features.probe.Ping(ctx, req)
}

func (v callerView) Tracert(ctx context.Context, req device.TracertRequest) (<-chan device.TracertProbe, error) {
	if err := v.mayWrite(); err != nil {
		return nil, err
	}
	if v.d.features.probe == nil {
		return nil, errNotRunning
	}
	return v.d.features.probe.Trace(ctx, req)
}

// A configuration file configures; it does not send probes.
func (s *scratchDevice) Ping(context.Context, device.PingRequest) (<-chan device.PingReply, error) {
	return nil, errScratch
}

func (s *scratchDevice) Tracert(context.Context, device.TracertRequest) (<-chan device.TracertProbe, error) {
	return nil, errScratch
}

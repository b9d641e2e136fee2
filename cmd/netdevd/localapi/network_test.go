package localapi

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// pingsRunning counts the fake device's pings that have not seen their
// context end: a client that goes away must end the daemon's ping.
var pingsRunning atomic.Int32

var target = netip.MustParseAddr("192.0.2.10")

func (d fakeDevice) Interface(context.Context) (device.InterfaceStatus, error) {
	return device.InterfaceStatus{Name: "Vlan-interface1", MTU: 1500, Addr: netip.MustParsePrefix("192.0.2.2/24")}, nil
}
func (d fakeDevice) Routes(context.Context) ([]device.Route, error) {
	return []device.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Proto: device.RouteStatic, Pre: 60, NextHop: netip.MustParseAddr("192.0.2.1")}}, nil
}
func (d fakeDevice) Neighbors(context.Context) ([]device.Neighbor, error) {
	return []device.Neighbor{{IP: netip.MustParseAddr("192.0.2.1"), MAC: "02:00:00:00:00:01"}}, nil
}
func (d fakeDevice) ResolveHost(_ context.Context, name string) (netip.Addr, error) {
	if name == "ctl.example.com" {
		return target, nil
	}
	return netip.Addr{}, errors.New("NXDOMAIN from 192.0.2.53")
}

// Ping answers Count replies at once, then, for Count 0, one reply and
// nothing more until ctx ends (a ping the user interrupts).
func (d fakeDevice) Ping(ctx context.Context, req device.PingRequest) (<-chan device.PingReply, error) {
	if d.id.Role != config.RoleAdmin {
		return nil, device.ErrPermission
	}
	if req.Dest != target {
		return nil, errors.New("The source IP address is not an address of this device.")
	}
	ch := make(chan device.PingReply)
	pingsRunning.Add(1)
	go func() {
		defer close(ch)
		defer pingsRunning.Add(-1)
		n := max(req.Count, 1)
		for i := range n {
			select {
			case ch <- device.PingReply{Seq: i, From: req.Dest, Bytes: req.Size, TTL: 64, RTT: time.Millisecond}:
			case <-ctx.Done():
				return
			}
		}
		if req.Count == 0 {
			<-ctx.Done()
		}
	}()
	return ch, nil
}

func (d fakeDevice) Tracert(_ context.Context, req device.TracertRequest) (<-chan device.TracertProbe, error) {
	ch := make(chan device.TracertProbe, 2)
	ch <- device.TracertProbe{TTL: 1, From: netip.MustParseAddr("192.0.2.1"), RTT: time.Millisecond}
	ch <- device.TracertProbe{TTL: 2, From: req.Dest, RTT: 2 * time.Millisecond, Last: true}
	close(ch)
	return ch, nil
}

func TestNetworkReads(t *testing.T) {
	_, sock := serve(t)
	c := NewClient(sock, "op-token")
	defer c.Close()
	ctx := context.Background()
	if st, err := c.Interface(ctx); err != nil || st.Addr.String() != "192.0.2.2/24" || st.MTU != 1500 {
		t.Errorf("Interface: %+v %v", st, err)
	}
	if rs, err := c.Routes(ctx); err != nil || len(rs) != 1 || rs[0].NextHop.String() != "192.0.2.1" {
		t.Errorf("Routes: %+v %v", rs, err)
	}
	if ns, err := c.Neighbors(ctx); err != nil || len(ns) != 1 || ns[0].MAC != "02:00:00:00:00:01" {
		t.Errorf("Neighbors: %+v %v", ns, err)
	}
	if a, err := c.ResolveHost(ctx, "ctl.example.com"); err != nil || a != target {
		t.Errorf("ResolveHost: %v %v", a, err)
	}
	if _, err := c.ResolveHost(ctx, "nope.example.com"); err == nil || err.Error() != "NXDOMAIN from 192.0.2.53" {
		t.Errorf("ResolveHost of an unknown name: %v", err)
	}
}

func TestPingAndTracertStream(t *testing.T) {
	_, sock := serve(t)
	admin, op := NewClient(sock, ""), NewClient(sock, "op-token")
	defer admin.Close()
	defer op.Close()
	ctx := context.Background()
	if _, err := op.Ping(ctx, device.PingRequest{Dest: target, Count: 1}); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator ping: %v", err)
	}
	if _, err := admin.Ping(ctx, device.PingRequest{Dest: netip.MustParseAddr("192.0.2.99"), Count: 1}); err == nil ||
		err.Error() != "The source IP address is not an address of this device." {
		t.Errorf("refused ping: %v", err)
	}
	replies, err := admin.Ping(ctx, device.PingRequest{Dest: target, Count: 3, Size: 56})
	if err != nil {
		t.Fatal(err)
	}
	var got []device.PingReply
	for r := range replies {
		got = append(got, r)
	}
	if len(got) != 3 || got[2].Seq != 2 || got[2].Bytes != 56 || got[2].RTT != time.Millisecond || got[2].From != target {
		t.Errorf("replies %+v", got)
	}
	probes, err := admin.Tracert(ctx, device.TracertRequest{Dest: target})
	if err != nil {
		t.Fatal(err)
	}
	var hops []device.TracertProbe
	for p := range probes {
		hops = append(hops, p)
	}
	if len(hops) != 2 || !hops[1].Last || hops[1].From != target {
		t.Errorf("probes %+v", hops)
	}
}

// A client that goes away (Ctrl+C cancels its context) ends the ping in
// the daemon, and its channel closes.
func TestPingEndsWithTheClient(t *testing.T) {
	_, sock := serve(t)
	c := NewClient(sock, "")
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	replies, err := c.Ping(ctx, device.PingRequest{Dest: target, Count: 0})
	if err != nil {
		t.Fatal(err)
	}
	if r := <-replies; r.Seq != 0 {
		t.Errorf("first reply %+v", r)
	}
	waitFor(t, "the daemon's ping running", func() bool { return pingsRunning.Load() == 1 })
	cancel()
	for range replies {
	}
	waitFor(t, "the daemon's ping to end", func() bool { return pingsRunning.Load() == 0 })
}

//go:build linux

package dhcpopt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// rawTransport talks DHCP on a real interface. Broadcast exchanges use a raw
// packet socket (the interface may have no address); RENEWING and RELEASE use
// an ordinary UDP socket bound to the leased address, port 68, on the
// interface, so they are true unicasts with the leased source address. When
// the address is not on the interface (ApplyToInterface false) the unicast
// falls back to the raw socket with the server as IP destination.
//
// Every socket is opened in the network namespace of the calling thread: Run's.
type rawTransport struct {
	iface   string
	timeout time.Duration
	retries int
	zl      *zap.Logger
}

func newRawTransport(iface string, timeout time.Duration, retries int, zl *zap.Logger) transport {
	return &rawTransport{iface: iface, timeout: timeout, retries: retries, zl: zl}
}

func (t *rawTransport) opts(extra ...nclient4.ClientOpt) []nclient4.ClientOpt {
	return append([]nclient4.ClientOpt{nclient4.WithTimeout(t.timeout), nclient4.WithRetry(t.retries)}, extra...)
}

func (t *rawTransport) broadcast() (*nclient4.Client, error) {
	return nclient4.New(t.iface, t.opts()...)
}

func (t *rawTransport) unicast(local, server netip.Addr) (*nclient4.Client, error) {
	srv := &net.UDPAddr{IP: server.AsSlice(), Port: nclient4.ServerPort}
	ifc, err := net.InterfaceByName(t.iface)
	if err != nil {
		return nil, err
	}
	conn, err := t.listen(local)
	if err != nil {
		t.zl.Debug("unicast socket unavailable, renewing through the raw socket", zap.Error(err))
		return nclient4.New(t.iface, t.opts(nclient4.WithServerAddr(srv))...)
	}
	cl, err := nclient4.NewWithConn(conn, ifc.HardwareAddr, t.opts(nclient4.WithServerAddr(srv))...)
	if err != nil {
		conn.Close()
	}
	return cl, err
}

func (t *rawTransport) sendTo(msg []byte, local, server netip.Addr) error {
	srv := &net.UDPAddr{IP: server.AsSlice(), Port: nclient4.ServerPort}
	conn, err := t.listen(local)
	if err != nil {
		t.zl.Debug("unicast socket unavailable, releasing through the raw socket", zap.Error(err))
		conn, err = nclient4.NewRawUDPConn(t.iface, nclient4.ClientPort)
		if err != nil {
			return err
		}
	}
	defer conn.Close()
	_, err = conn.WriteTo(msg, srv)
	return err
}

// listen opens UDP local:68 bound to the interface.
func (t *rawTransport) listen(local netip.Addr) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
				return
			}
			serr = unix.BindToDevice(int(fd), t.iface)
		})
		return errors.Join(err, serr)
	}}
	return lc.ListenPacket(context.Background(), "udp4",
		netip.AddrPortFrom(local, nclient4.ClientPort).String())
}

// netlinkOps sets the leased address and a default route on the interface.
type netlinkOps struct {
	h      *netlink.Handle
	iface  string
	metric int
}

// newNetlinkOps opens a netlink handle in the calling thread's namespace.
func newNetlinkOps(iface string, metric int) (ifaceOps, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	return &netlinkOps{h: h, iface: iface, metric: metric}, nil
}

func (n *netlinkOps) close() { n.h.Close() }

func (n *netlinkOps) link() (netlink.Link, error) {
	return n.h.LinkByName(n.iface)
}

func (n *netlinkOps) apply(old, cur *lease) error {
	link, err := n.link()
	if err != nil {
		return err
	}
	if old != nil && old.addr != cur.addr {
		_ = n.remove(old)
	}
	a := &netlink.Addr{IPNet: prefixNet(cur.addr)}
	if cur.dur < infiniteLease {
		// The kernel drops the address when the lease ends even if the
		// daemon is not running any more to do it.
		secs := int(cur.dur / time.Second)
		a.ValidLft, a.PreferedLft = secs, secs
	}
	if err := n.h.AddrReplace(link, a); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if old != nil && old.router.IsValid() && old.router != cur.router {
		_ = n.h.RouteDel(n.defaultRoute(link, old.router))
	}
	if cur.router.IsValid() {
		err := n.h.RouteAdd(n.defaultRoute(link, cur.router))
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("default route via %s: %w", cur.router, err)
		}
	}
	return nil
}

func (n *netlinkOps) defaultRoute(link netlink.Link, gw netip.Addr) *netlink.Route {
	return &netlink.Route{
		LinkIndex: link.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Gw:        gw.AsSlice(),
		Priority:  n.metric,
		Protocol:  unix.RTPROT_DHCP,
	}
}

func (n *netlinkOps) remove(l *lease) error {
	link, err := n.link()
	if err != nil {
		return err
	}
	if l.router.IsValid() {
		_ = n.h.RouteDel(n.defaultRoute(link, l.router))
	}
	err = n.h.AddrDel(link, &netlink.Addr{IPNet: prefixNet(l.addr)})
	if errors.Is(err, unix.EADDRNOTAVAIL) {
		err = nil
	}
	return err
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

// watchLink reports link up/down edges of iface (operational state: carrier
// and admin up) on ch. The netlink socket is opened in the calling thread's
// namespace. The returned function stops the watch.
func watchLink(iface string, ch chan<- bool, zl *zap.Logger) (stop func()) {
	updates := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
	err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		ListExisting:  true,
		ErrorCallback: func(err error) { zl.Debug("link watch", zap.Error(err)) },
	})
	if err != nil {
		zl.Warn("cannot watch link state; link up/down is not followed", zap.Error(err))
		return func() {}
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		known, last := false, false
		for {
			select {
			case <-done:
				return
			case u, ok := <-updates:
				if !ok {
					return
				}
				if u.Attrs() == nil || u.Attrs().Name != iface {
					continue
				}
				up := u.Attrs().Flags&net.FlagUp != 0 && u.Attrs().RawFlags&unix.IFF_LOWER_UP != 0
				if known && up == last {
					continue
				}
				first := !known
				known, last = true, up
				if first {
					continue // the state at start is not an edge
				}
				select {
				case ch <- up:
				case <-done:
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

package daemon

// Logs the Comware way: the log buffer follows `info-center logbuffer
// size`, `reset logbuffer` empties it, shells stream it live (terminal
// monitor), and the debugging switches (`debugging cloud-management …`)
// make the cloud connection emit severity-7 entries into the same stream.

import (
	"context"
	"strings"
	"sync"

	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// monitorDepth is how many entries a slow shell may fall behind before it
// misses some (counted as dropped in display logbuffer).
const monitorDepth = 256

// debugSwitches are the device's debugging switches: global, not saved.
type debugSwitches struct {
	mu sync.Mutex
	on device.DebugSwitches
}

func (s *debugSwitches) get() device.DebugSwitches {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.on
}

func (s *debugSwitches) set(which device.DebugSwitches, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on.Set(which, on)
}

// applyLogConfig makes the log buffer follow the configuration.
func (d *Daemon) applyLogConfig(cfg config.Config) {
	d.log.Resize(cfg.InfoCenter.LogBufferSize)
}

// cloudDebugOn tells the cloud connection whether a kind of debugging is on.
func (d *Daemon) cloudDebugOn(kind string) bool {
	sw := d.debug.get()
	switch kind {
	case cloudmgmt.DebugEvent:
		return sw.CloudEvent
	case cloudmgmt.DebugPacket:
		return sw.CloudPacket
	}
	return false
}

// cloudDebug writes one debugging line: CLOUD/7/EVENT or CLOUD/7/PACKET.
// cloudmgmt has already taken every secret out of text.
func (d *Daemon) cloudDebug(kind, text string) {
	if d.cloudDebugOn(kind) {
		d.log.Log("CLOUD", logbuf.Debugging, strings.ToUpper(kind), text)
	}
}

func (v callerView) ResetLogBuffer(context.Context) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	v.d.log.Reset()
	return nil
}

// SubscribeLogs forwards the log buffer's new entries until ctx ends; then
// it unsubscribes and closes the channel.
func (v callerView) SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error) {
	return v.d.log.Follow(ctx, monitorDepth), nil
}

func (v callerView) Debugging(context.Context) (device.DebugSwitches, error) {
	return v.d.debug.get(), nil
}

func (v callerView) SetDebugging(_ context.Context, which device.DebugSwitches, on bool) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	v.d.debug.set(which, on)
	return nil
}

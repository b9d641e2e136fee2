package shell

import (
	"context"

	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// memDevice has no log buffer and no debugging switches.

func (d *memDevice) ResetLogBuffer(context.Context) error { return nil }

func (d *memDevice) SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error) {
	c := make(chan logbuf.Entry)
	go func() { <-ctx.Done(); close(c) }()
	return c, nil
}

func (d *memDevice) Debugging(context.Context) (device.DebugSwitches, error) {
	return device.DebugSwitches{}, nil
}

func (d *memDevice) SetDebugging(context.Context, device.DebugSwitches, bool) error { return nil }

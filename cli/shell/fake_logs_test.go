package shell

import (
	"context"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// memDevice has no log buffer and no debugging switches.

func (d *memDevice) ResetLogBuffer(context.Context) error { return nil }

func (d *memDevice) SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error) {
	c := make(chan logbuf.Entry)
	go func() { <-ctx.Done(); close(c) }()
	return c, nil
}

func (d *memDevice) Debugging(context.Context) (cli.DebugSwitches, error) {
	return cli.DebugSwitches{}, nil
}

func (d *memDevice) SetDebugging(context.Context, cli.DebugSwitches, bool) error { return nil }

package main

import (
	"context"
	"os"

	"golang.org/x/term"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/device"
)

// monitorLogs is a shell's live log feed (terminal monitor): the daemon's
// log stream, filtered and formatted by the session (terminal monitor and
// terminal debugging are per session and may change at any time). nil when
// the stream cannot be opened: the session works without live logs.
//
// Comware turns terminal monitor on by default for the console; that is for
// a person at a terminal: a console shell fed by a pipe is a script, and
// starts with it off (it may still turn it on).
func monitorLogs(ctx context.Context, dev device.Device, sess *cli.Session) <-chan string {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		sess.SetMonitor(false)
	}
	entries, err := dev.SubscribeLogs(ctx)
	if err != nil {
		return nil
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		for e := range entries {
			line, ok := sess.MonitorLine(e)
			if !ok {
				continue
			}
			select {
			case out <- line:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

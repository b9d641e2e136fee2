package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cli/shell"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
)

// runShell is a CLI session on this process's terminal: started by hand on
// the box (the console), or by the SSH server as one session's child.
func runShell(args []string) error {
	fs := flag.NewFlagSet("shell", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", defaultDataDir, "the daemon's data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGHUP, syscall.SIGTERM)
	defer stop()
	c := apiClient(*dataDir)
	defer c.Close()
	id, err := c.WhoAmI(ctx)
	if err != nil {
		return err
	}
	if id == daemon.Console {
		// The console line is listed in `display users` while this shell runs.
		if detach, err := c.AttachConsole(ctx, os.Getpid()); err == nil {
			defer detach()
		} else {
			fmt.Fprintf(os.Stderr, "netdevd shell: the console line is not listed in display users: %v\n", err)
		}
	}
	sess := cli.NewSession(c, id)
	logs := monitorLogs(ctx, c, sess) // monitor.go
	if shellMode() == "readline" {
		err = shell.RunInteractive(ctx, sess, shell.InteractiveOptions{Rows: screenLength, Logs: logs})
	} else {
		err = shell.RunLine(ctx, sess, os.Stdin, os.Stdout, shell.LineOptions{Rows: screenLength, Logs: logs})
	}
	if errors.Is(err, context.Canceled) {
		return nil // the SSH server hung up the session (SIGHUP): a normal end
	}
	return err
}

// screenLength is the pager's page: Comware pages every 24 lines whatever
// the window's height (its default screen-length).
const screenLength = 24

// shellMode is what the SSH relay chose, or, on the console, readline for
// a terminal and line mode for a pipe (`printf '…' | netdevd shell`).
func shellMode() string {
	if m := os.Getenv(daemon.EnvShellMode); m != "" {
		return m
	}
	if term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) {
		return "readline"
	}
	return "line"
}

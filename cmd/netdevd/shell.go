package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cli/shell"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/internal/termrelay"
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
	if onConsoleTerminal() {
		return relayConsole(ctx, *dataDir)
	}
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

// shellMode is what the relay in front of this shell chose (the SSH
// server's, or the console's: relayConsole); line mode for a console on
// pipes (`printf '…' | netdevd shell`).
func shellMode() string {
	if m := os.Getenv(daemon.EnvShellMode); m != "" {
		return m
	}
	return termrelay.ModeLine
}

// onConsoleTerminal: `netdevd shell` started by hand on a terminal, not as
// a relay's child.
func onConsoleTerminal() bool {
	return os.Getenv(daemon.EnvShellMode) == "" &&
		term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
}

// relayConsole runs the console shell as a child of this process on its
// own PTY, behind the same relay as an SSH session (internal/termrelay):
// readline run directly on the terminal would get the terminal's answers
// to its cursor queries in the same read() as the keys typed meanwhile, and
// drop those keys (a line typed with its Enter right behind it loses the
// Enter). The child is this binary's `shell` in the mode the relay chose.
func relayConsole(ctx context.Context, dataDir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	code, err := termrelay.RunConsole(ctx, termrelay.ConsoleOptions{
		In: os.Stdin, Out: os.Stdout,
		Command: func(mode string) *exec.Cmd {
			cmd := exec.Command(self, "shell", "--data-dir", dataDir)
			cmd.Env = append(os.Environ(), daemon.EnvShellMode+"="+mode)
			return cmd
		},
	})
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		return nil // hung up
	case err != nil:
		return err
	case code != 0:
		return exitCode(code)
	}
	return nil
}

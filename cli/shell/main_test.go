package shell

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"testing"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/tmpguard"
)

// childEnv makes the test binary, re-executed on a PTY, run the interactive
// shell with the fake engine on its stdin/stdout instead of the tests.
const childEnv = "NETDEVD_SHELL_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if dump := os.Getenv("SHELL_TEST_STACKS"); dump != "" {
			usr1 := make(chan os.Signal, 1)
			signal.Notify(usr1, syscall.SIGUSR1)
			go func() {
				for range usr1 {
					f, _ := os.Create(dump)
					pprof.Lookup("goroutine").WriteTo(f, 2)
					f.Close()
				}
			}()
		}
		var e Engine = &fakeEngine{}
		if mode == "grammar" {
			e = cli.NewSession(&memDevice{cfg: config.Default()},
				device.Identity{User: "admin", Role: config.RoleAdmin, Line: "VTY 0"})
		}
		ctx := context.Background()
		if mode == "notify" { // as `netdevd shell` does
			var stop context.CancelFunc
			ctx, stop = signal.NotifyContext(ctx, syscall.SIGHUP, syscall.SIGTERM)
			defer stop()
		}
		opts := InteractiveOptions{}
		if mode == "monitor" { // monitor_test.go
			opts.Logs = monitorChildLogs()
		}
		var err error
		if mode == "line" { // line_break_test.go
			err = RunLine(ctx, e, os.Stdin, os.Stdout, LineOptions{})
		} else {
			err = RunInteractive(ctx, e, opts)
		}
		if mode == "notify" && err == context.Canceled {
			fmt.Fprint(os.Stdout, "CHILD-CANCELED\n")
			os.Exit(3)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "RunInteractive:", err)
			os.Exit(1)
		}
		fmt.Fprint(os.Stdout, "CHILD-DONE\n")
		os.Exit(0)
	}
	// Under nohup SIGHUP is ignored, and an ignored signal stays ignored
	// across exec: the children would survive the SIGHUP that ends a
	// session. Caught instead (and dropped), it is reset to the default
	// in each child.
	if signal.Ignored(syscall.SIGHUP) {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	}
	os.Exit(tmpguard.Main(m))
}

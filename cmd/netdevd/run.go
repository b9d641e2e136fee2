package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/internal/logging"
)

const defaultDataDir = "/var/lib/netdevd"

func runDaemon(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o daemon.Options
	fs.StringVar(&o.DataDir, "data-dir", defaultDataDir, "flash: directory (startup.cfg, host key, serial)")
	fs.StringVar(&o.SSHListen, "ssh-listen", ":22", "SSH listen address")
	fs.StringVar(&o.Serial, "serial", "", "serial number (default: DIR/serial, created at first boot)")
	fs.StringVar(&o.VlanInterface1, "vlan-interface1", "", "Linux interface that is Vlan-interface1 (none = no DHCP)")
	fs.StringVar(&o.CAFile, "ca-file", "", "extra trust anchors (PEM) for the controller's certificate")
	fs.StringVar(&o.AdminPasswordFile, "admin-password-file", "", "first boot only: create local-user admin with this password")
	format := fs.String("log-format", "console", "console|json")
	level := fs.String("log-level", "info", "debug|info|warn|error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	zl, err := logging.New(*format, *level)
	if err != nil {
		return err
	}
	defer zl.Sync()
	o.Zap = zl
	d, err := daemon.New(o)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err = d.Run(ctx)
	if errors.Is(err, daemon.ErrReboot) {
		// `reboot`: stopped cleanly; the service manager starts it again.
		zl.Info("rebooting: exiting for the service manager to restart the daemon", zap.Int("status", daemon.RebootExitCode))
		return exitCode(daemon.RebootExitCode)
	}
	return err
}

// parseFlags parses and turns a bad flag into one clear line.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return exitCode(0)
		}
		return err
	}
	return nil
}

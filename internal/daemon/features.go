package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/dhcpopt"
	"github.com/netdevd/netdevd/internal/config"
)

// features are the parts of the device that follow the running
// configuration: the cloud connection, the DHCP client and the SSH server.
type features struct{}

// startFeatures starts each feature under run.
func (d *Daemon) startFeatures(ctx context.Context, run func(string, func(context.Context) error)) error {
	return nil
}

func (f *features) apply(cfg config.Config) {}

func (f *features) cloudStatus(now time.Time) cloudmgmt.Status {
	return cloudmgmt.Status{ConnState: "Idle", DeviceState: "Idle", ProcessState: "Idle", Now: now}
}

func (f *features) resetCloud() {}

func (f *features) unbind(ctx context.Context, code string) (string, error) {
	return "", errors.New("cloud connection not running")
}

func (f *features) dhcpStatus(now time.Time) dhcpopt.Status { return dhcpopt.Status{Now: now} }

func (f *features) sessions() []cli.VTYSession { return nil }

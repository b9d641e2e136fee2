package shell

import (
	"context"

	"github.com/netdevd/netdevd/internal/device"
)

// memDevice's system role: it has no host, no flash: and never reboots.

func (d *memDevice) Resources(context.Context) (device.Resources, error) {
	return device.Resources{}, errNoFlash
}
func (d *memDevice) Reboot(context.Context) error { return errNoFlash }
func (d *memDevice) Startup(context.Context) (device.StartupInfo, error) {
	return device.StartupInfo{}, nil
}
func (d *memDevice) Dir(context.Context) (device.FlashListing, error) {
	return device.FlashListing{}, errNoFlash
}
func (d *memDevice) WriteFile(context.Context, string, []byte, bool) error { return errNoFlash }
func (d *memDevice) AttachConsole(context.Context, int) (func(), error)    { return func() {}, nil }

package shell

import (
	"context"
	"errors"

	"github.com/netdevd/netdevd/internal/device"
)

// memDevice has no flash: and no network: archives and transfers fail.

var errNoFlash = errors.New("not supported by the test device")

func (d *memDevice) ACLMatches(context.Context) ([]device.ACLMatch, error) { return nil, nil }

func (d *memDevice) ArchiveConfiguration(context.Context) (string, error) { return "", errNoFlash }
func (d *memDevice) Archives(context.Context) (device.ArchiveInfo, error) {
	return device.ArchiveInfo{}, nil
}
func (d *memDevice) ReplaceConfiguration(context.Context, string) error      { return errNoFlash }
func (d *memDevice) BackupStartup(context.Context, device.SFTPTarget) error  { return errNoFlash }
func (d *memDevice) RestoreStartup(context.Context, device.SFTPTarget) error { return errNoFlash }

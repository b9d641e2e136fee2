package shell

import (
	"context"
	"errors"

	"github.com/netdevd/netdevd/cli"
)

// memDevice has no flash: and no network: archives and transfers fail.

var errNoFlash = errors.New("not supported by the test device")

func (d *memDevice) ArchiveConfiguration(context.Context) (string, error) { return "", errNoFlash }
func (d *memDevice) Archives(context.Context) (cli.ArchiveInfo, error) {
	return cli.ArchiveInfo{}, nil
}
func (d *memDevice) ReplaceConfiguration(context.Context, string) error   { return errNoFlash }
func (d *memDevice) BackupStartup(context.Context, cli.SFTPTarget) error  { return errNoFlash }
func (d *memDevice) RestoreStartup(context.Context, cli.SFTPTarget) error { return errNoFlash }

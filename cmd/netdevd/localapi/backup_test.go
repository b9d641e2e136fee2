package localapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// The fake device's archive and SFTP calls: they echo what they got so the
// test sees it crossed the socket intact.

func (d fakeDevice) ArchiveConfiguration(context.Context) (string, error) {
	if d.id.Role != config.RoleAdmin {
		return "", device.ErrPermission
	}
	return "a_1.cfg", nil
}

func (d fakeDevice) Archives(context.Context) (device.ArchiveInfo, error) {
	return device.ArchiveInfo{Files: []device.ArchiveFile{{Name: "a_1.cfg", Time: time.Unix(1700000000, 0).UTC()}}, Next: "a_2.cfg"}, nil
}

func (d fakeDevice) ReplaceConfiguration(_ context.Context, file string) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	return errors.New("replace " + file)
}

func (d fakeDevice) BackupStartup(_ context.Context, t device.SFTPTarget) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	return errors.New("backup " + t.URL + " " + t.Password + " " + t.HostKeyFingerprint)
}

func (d fakeDevice) RestoreStartup(_ context.Context, t device.SFTPTarget) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	return errors.New("restore " + t.URL + " " + t.Password)
}

func TestArchiveAndBackupCalls(t *testing.T) {
	_, sock := serve(t)
	c := NewClient(sock, "")
	defer c.Close()
	ctx := context.Background()
	if name, err := c.ArchiveConfiguration(ctx); err != nil || name != "a_1.cfg" {
		t.Errorf("archive: %q %v", name, err)
	}
	if info, err := c.Archives(ctx); err != nil || info.Next != "a_2.cfg" || len(info.Files) != 1 || info.Files[0].Time.Unix() != 1700000000 {
		t.Errorf("archives: %+v %v", info, err)
	}
	if err := c.ReplaceConfiguration(ctx, "flash:/archive/a_1.cfg"); err == nil || err.Error() != "replace flash:/archive/a_1.cfg" {
		t.Errorf("replace: %v", err)
	}
	target := device.SFTPTarget{URL: "sftp://u@h/x.cfg", Password: "p w", HostKeyFingerprint: "SHA256:x"}
	if err := c.BackupStartup(ctx, target); err == nil || err.Error() != "backup sftp://u@h/x.cfg p w SHA256:x" {
		t.Errorf("backup: %v", err)
	}
	if err := c.RestoreStartup(ctx, target); err == nil || err.Error() != "restore sftp://u@h/x.cfg p w" {
		t.Errorf("restore: %v", err)
	}
	op := NewClient(sock, "op-token")
	defer op.Close()
	for name, err := range map[string]error{
		"archive": func() error { _, err := op.ArchiveConfiguration(ctx); return err }(),
		"replace": op.ReplaceConfiguration(ctx, "a.cfg"),
		"backup":  op.BackupStartup(ctx, target),
		"restore": op.RestoreStartup(ctx, target),
	} {
		if !errors.Is(err, device.ErrPermission) {
			t.Errorf("operator %s: %v", name, err)
		}
	}
}

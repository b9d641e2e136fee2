package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// The fake device's archives, rollback and SFTP transfers. Archive files
// live in files under "archive/NAME"; a transfer is recorded under
// "sftp:URL" (backup) or read from it (restore); the password "wrong" fails
// like a refused login.

func (d *fakeDevice) ArchiveConfiguration(ctx context.Context) (string, error) {
	if err := d.check(); err != nil {
		return "", err
	}
	info, _ := d.Archives(ctx)
	d.files["archive/"+info.Next] = Render(d.cfg)
	return info.Next, nil
}

func (d *fakeDevice) Archives(ctx context.Context) (device.ArchiveInfo, error) {
	info := device.ArchiveInfo{}
	if d.cfg.Archive.Location == "" {
		return info, nil
	}
	n := 0
	for name := range d.files {
		if strings.HasPrefix(name, "archive/") {
			n++
		}
	}
	for i := 1; i <= n; i++ {
		info.Files = append(info.Files, device.ArchiveFile{Name: fmt.Sprintf("%s_%d.cfg", d.cfg.Archive.Prefix, i), Time: testNow.Add(time.Duration(i) * time.Minute)})
	}
	info.Next = fmt.Sprintf("%s_%d.cfg", d.cfg.Archive.Prefix, n+1)
	return info, nil
}

func (d *fakeDevice) ReplaceConfiguration(ctx context.Context, file string) error {
	if err := d.check(); err != nil {
		return err
	}
	text, ok := d.files[bareFileName(file)]
	if !ok {
		return device.Messagef("The file %s does not exist.", file)
	}
	scratch := newFakeDevice()
	if errs := Replay(ctx, scratch, text); len(errs) > 0 {
		return device.Messagef("Failed to replace current configuration with the file %s: line %d", file, errs[0].Line)
	}
	d.cfg = scratch.cfg
	return nil
}

var errFakeLogin = device.Message("Login to 192.0.2.9:22 as u failed: wrong user name or password.")

func (d *fakeDevice) BackupStartup(ctx context.Context, t device.SFTPTarget) error {
	if err := d.check(); err != nil {
		return err
	}
	if t.Password == "wrong" {
		return errFakeLogin
	}
	d.files["sftp:"+t.URL] = d.files["startup.cfg"]
	d.files["sftp-fp:"+t.URL] = t.HostKeyFingerprint
	return nil
}

func (d *fakeDevice) RestoreStartup(ctx context.Context, t device.SFTPTarget) error {
	if err := d.check(); err != nil {
		return err
	}
	if t.Password == "wrong" {
		return errFakeLogin
	}
	d.files["startup.cfg"] = d.files["sftp:"+t.URL]
	return nil
}

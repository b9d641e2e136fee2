package cli

import (
	"context"
	"time"

	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/version"
)

// The fake device's system role (cmd_device.go, cmd_version.go, cmd_reboot.go).

func (d *fakeDevice) Version(ctx context.Context) (device.VersionInfo, error) {
	return device.VersionInfo{Software: "1.2.3", Model: "NETDEVD-1000", Serial: "SN0001",
		BootTime: testNow.Add(-62 * time.Minute), MAC: "02:ab:cd:ef:01:23",
		Manufactured: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC), LastReboot: device.RebootUser}, nil
}

func (d *fakeDevice) Resources(ctx context.Context) (device.Resources, error) {
	return device.Resources{
		CPU: device.CPUUsage{Last5Sec: 7, Last1Min: 12, Last5Min: 100},
		Memory: device.MemoryUsage{Total: 2048000, Free: 512000, Shared: 1024, Buffers: 20480,
			Cached: 307200, SwapTotal: 1048576, SwapFree: 1048000},
	}, nil
}

func (d *fakeDevice) Reboot(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	d.reboots++
	return nil
}

func (d *fakeDevice) Startup(ctx context.Context) (device.StartupInfo, error) {
	next := ""
	if _, ok := d.files["startup.cfg"]; ok {
		next = "startup.cfg"
	}
	return device.StartupInfo{Current: "startup.cfg", Next: next}, nil
}

func (d *fakeDevice) Dir(ctx context.Context) (device.FlashListing, error) {
	return device.FlashListing{
		Files: []device.FlashFile{
			{Name: "archive", Dir: true, Time: testNow.Add(-time.Hour)},
			{Name: "startup.cfg", Size: 1361, Time: testNow},
		},
		Total: 1048576 * 1024, Free: 843256 * 1024,
	}, nil
}

// WriteFile keeps a redirected display's output in files; the name
// "serial" stands for a file of the device's own, which it refuses.
func (d *fakeDevice) WriteFile(ctx context.Context, file string, data []byte, appendTo bool) error {
	if err := d.check(); err != nil {
		return err
	}
	if file == "serial" {
		return device.Message("The file flash:/serial is used by the system.")
	}
	if !appendTo {
		d.files[file] = ""
	}
	d.files[file] += string(data)
	return nil
}

func (d *fakeDevice) AttachConsole(ctx context.Context, pid int) (func(), error) {
	return func() {}, nil
}

// lineDefaults are the line sections every rendering holds (cmd_lines.go).
const lineDefaults = "#\nline class console\n user-role network-admin\n#\nline class vty\n user-role network-operator\n" +
	"#\nline con 0\n user-role network-admin\n#\nline vty 0 63\n authentication-mode scheme\n user-role network-operator\n"

// rendered is what Render prints for a configuration named sysname whose
// sections before the line sections are before and after them are after
// (each section starting with its `#` line).
func rendered(sysname, before, after string) string {
	return "#\n version 7.1.064, Release " + version.Release() + "\n#\n sysname " + sysname + "\n" +
		before + lineDefaults + after + "#\nreturn\n"
}

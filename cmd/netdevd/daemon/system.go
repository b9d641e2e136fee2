package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/atomicfile"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/hostinfo"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/version"
)

// The device itself: identity, CPU and memory, flash:'s listing, the
// startup file, the console line and `reboot`.
//
// Reboot is a clean shutdown of the daemon followed by a start from
// startup.cfg: Run returns ErrReboot after every part has stopped, and
// `netdevd run` exits with RebootExitCode, which the systemd unit restarts
// (configs/netdevd.service, docs/operations.md). A marker file on flash:
// tells the next start that it follows a `reboot` (Last reboot reason).

// ErrReboot is what Run returns after `reboot` stopped the device.
var ErrReboot = errors.New("the device is rebooting")

// RebootExitCode is `netdevd run`'s exit status after `reboot`
// (EX_TEMPFAIL): the unit restarts the daemon on it whatever Restart= says.
const RebootExitCode = 75

// rebootMarker is the flash: file a `reboot` leaves for the next start
// (hidden: `dir` does not list dot files).
const rebootMarker = ".reboot"

// rebootGrace bounds how long a reboot waits for the request that asked
// for it to end (its output to reach the user) before the device goes.
const rebootGrace = 10 * time.Second

// DefaultProcDir is where the CPU and memory figures come from.
const DefaultProcDir = "/proc"

// system is the daemon's state for the system role.
type system struct {
	lastReboot   string    // device.RebootCold or RebootUser
	manufactured time.Time // first boot: the serial file's time
	bootFile     string    // the startup file this boot loaded; "" = factory or defaults
	procDir      string
	cpu          *hostinfo.CPUSampler
	consoles     consoles // users.go
	reboot       chan struct{}
}

// initSystem reads what the last run left (the reboot marker) and prepares
// the CPU sampler. It runs in New, before the startup file loads.
func (d *Daemon) initSystem() {
	s := &d.sys
	s.procDir = d.opts.ProcDir
	if s.procDir == "" {
		s.procDir = DefaultProcDir
	}
	s.reboot = make(chan struct{}, 1)
	s.cpu = hostinfo.NewCPUSampler(func() (hostinfo.CPUTimes, error) { return hostinfo.ReadCPU(s.procDir) }, d.clock)
	s.manufactured = d.boot
	if fi, err := os.Stat(filepath.Join(d.opts.DataDir, "serial")); err == nil {
		s.manufactured = fi.ModTime()
	}
	s.lastReboot = device.RebootCold
	marker := filepath.Join(d.opts.DataDir, rebootMarker)
	if b, err := os.ReadFile(marker); err == nil {
		if strings.TrimSpace(string(b)) == device.RebootUser {
			s.lastReboot = device.RebootUser
		}
		if err := os.Remove(marker); err != nil {
			d.zap.Warn("cannot remove the reboot marker", zap.Error(err))
		}
	}
}

// stopRequested waits until ctx ends or a reboot is due, and says which.
func (d *Daemon) stopRequested(ctx context.Context) (reboot bool) {
	select {
	case <-ctx.Done():
		return false
	case <-d.sys.reboot:
		return true
	}
}

func (v callerView) Version(context.Context) (device.VersionInfo, error) {
	return device.VersionInfo{Software: version.Version, Model: version.Model, Serial: v.d.serial, BootTime: v.d.boot,
		MAC: v.d.mac, Manufactured: v.d.sys.manufactured, LastReboot: v.d.sys.lastReboot}, nil
}

func (v callerView) Resources(context.Context) (device.Resources, error) {
	mem, err := hostinfo.ReadMemory(v.d.sys.procDir)
	if err != nil {
		return device.Resources{}, err
	}
	return device.Resources{CPU: v.d.sys.cpu.Usage(), Memory: mem}, nil
}

// Reboot logs, leaves the marker and, once ctx (the request asking) has
// ended or rebootGrace has passed, stops the device.
func (v callerView) Reboot(ctx context.Context) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	d := v.d
	marker := filepath.Join(d.opts.DataDir, rebootMarker)
	if err := atomicfile.Write(marker, []byte(device.RebootUser+"\n"), 0o600); err != nil {
		return err
	}
	d.log.Logf("DEVM", logbuf.Alert, "REBOOT", "Reboot device by command (%s).", v.id.User)
	d.log.Log("DEVM", logbuf.Notification, "SYSTEM_REBOOT", "System is rebooting now.")
	timer := d.clock.NewTimer(rebootGrace)
	go func() {
		defer timer.Stop()
		select {
		case <-ctx.Done():
		case <-timer.C():
		}
		select {
		case d.sys.reboot <- struct{}{}:
		default: // already due
		}
	}()
	return nil
}

func (v callerView) Startup(context.Context) (device.StartupInfo, error) {
	st := device.StartupInfo{Current: v.d.sys.bootFile}
	path, _ := flashPath(v.d.opts.DataDir, StartupFile)
	if _, err := os.Stat(path); err == nil {
		st.Next = StartupFile
	} else if !errors.Is(err, os.ErrNotExist) {
		return device.StartupInfo{}, err
	}
	return st, nil
}

// Dir lists flash:'s top directory: its files and folders, not the hidden
// files (dot files, such as the reboot marker) nor the local API socket.
func (v callerView) Dir(context.Context) (device.FlashListing, error) {
	if err := v.mayWrite(); err != nil {
		return device.FlashListing{}, err
	}
	dir := v.d.opts.DataDir
	entries, err := os.ReadDir(dir)
	if err != nil {
		return device.FlashListing{}, err
	}
	l := device.FlashListing{Files: []device.FlashFile{}}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !(e.Type().IsRegular() || e.IsDir()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		f := device.FlashFile{Name: e.Name(), Dir: e.IsDir(), Time: fi.ModTime()}
		if !f.Dir {
			f.Size = fi.Size()
		}
		l.Files = append(l.Files, f)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return device.FlashListing{}, err
	}
	l.Total = fs.Blocks * uint64(fs.Bsize)
	l.Free = fs.Bavail * uint64(fs.Bsize)
	return l, nil
}

// WriteFile is a redirected display's output (`display … > FILE`).
func (v callerView) WriteFile(_ context.Context, file string, data []byte, appendTo bool) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	path, err := outputPath(v.d.opts.DataDir, file)
	if err != nil {
		return err
	}
	return writeOutput(path, data, appendTo)
}

// A scratch device (checking a file) neither reboots nor lists flash:.
func (s *scratchDevice) Reboot(context.Context) error { return errScratch }

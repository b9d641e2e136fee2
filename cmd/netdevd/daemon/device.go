package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/atomicfile"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// callerView is the device as one caller sees it: every write checks the
// caller's role here, in the daemon, whatever the front end already did.
type callerView struct {
	d  *Daemon
	id device.Identity
}

var _ device.Device = callerView{}

func (d *Daemon) deviceFor(id device.Identity) device.Device { return callerView{d: d, id: id} }

func (v callerView) mayWrite() error {
	if v.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	return nil
}

func (v callerView) Running(context.Context) (config.Config, error) {
	cfg, _ := v.d.store.Get()
	return cfg, nil
}

func (v callerView) Update(_ context.Context, change func(*config.Config) error) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	return v.d.store.Update(change)
}

// swap is the local API's compare-and-swap write.
func (v callerView) swap(base uint64, next config.Config) (uint64, error) {
	if err := v.mayWrite(); err != nil {
		return 0, err
	}
	return v.d.store.CompareAndSwap(base, next)
}

func (v callerView) Save(_ context.Context, file string) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	path, err := flashPath(v.d.opts.DataDir, file)
	if err != nil {
		return err
	}
	cfg, _ := v.d.store.Get()
	if err := atomicfile.Write(path, []byte(cli.Render(cfg)), 0o600); err != nil {
		v.d.log.Logf("CFGMAN", logbuf.Error, "CFGMAN_SAVE_FAILED", "Saving the configuration to flash:/%s failed: %v.", file, err)
		return err
	}
	v.d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_CFGCHANGED", "%s saved the running configuration to flash:/%s.", v.id.User, filepath.Base(path))
	return nil
}

func (v callerView) FileExists(_ context.Context, file string) (bool, error) {
	path, err := flashPath(v.d.opts.DataDir, file)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (v callerView) SavedConfiguration(context.Context) (string, error) {
	path, _ := flashPath(v.d.opts.DataDir, StartupFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

func (v callerView) CloudStatus(context.Context) (device.CloudStatus, error) {
	return v.d.features.cloudStatus(v.d.clock.Now()), nil
}

func (v callerView) ResetCloudTunnel(context.Context) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	v.d.log.Logf("CLOUD", logbuf.Notification, "CLOUD_RESET", "%s reset the cloud management tunnel.", v.id.User)
	v.d.features.resetCloud()
	return nil
}

func (v callerView) Unbind(ctx context.Context, code string) (string, error) {
	if err := v.mayWrite(); err != nil {
		return "", err
	}
	return v.d.features.unbind(ctx, code)
}

func (v callerView) DHCPStatus(context.Context) (device.DHCPStatus, error) {
	return v.d.features.dhcpStatus(v.d.clock.Now()), nil
}

func (v callerView) DNSHosts(context.Context) ([]device.DNSHost, error) {
	cfg, _ := v.d.store.Get()
	hosts := make([]device.DNSHost, 0, len(cfg.IPHosts))
	for _, h := range cfg.IPHosts {
		hosts = append(hosts, device.DNSHost{Name: h.Name, Type: "S", Addr: h.Addr.String()})
	}
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	return hosts, nil
}

func (v callerView) LogBuffer(context.Context) (logbuf.Snapshot, error) {
	return v.d.log.Snapshot(), nil
}

// backend adapts the daemon to the local API.
type backend struct{ d *Daemon }

func (b backend) Identify(token string) (device.Identity, error) { return b.d.tokens.identify(token) }

// Device is the device as id sees it; a console request counts as the
// console's activity (its idle time in `display users`).
func (b backend) Device(id device.Identity) device.Device {
	if id == Console {
		b.d.sys.consoles.touch(b.d.clock.Now())
	}
	return b.d.deviceFor(id)
}
func (b backend) Running() (config.Config, uint64) { return b.d.store.Get() }

func (b backend) Swap(id device.Identity, base uint64, next config.Config) (uint64, error) {
	return callerView{d: b.d, id: id}.swap(base, next)
}

func (b backend) Exec(ctx context.Context, id device.Identity, lines []string) (string, bool) {
	return cli.RunBatch(ctx, b.Device(id), id, lines)
}

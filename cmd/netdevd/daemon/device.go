package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/dhcpopt"
	"github.com/netdevd/netdevd/internal/atomicfile"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/version"
)

// device is the device as one caller sees it: every write checks the
// caller's role here, in the daemon, whatever the front end already did.
type device struct {
	d  *Daemon
	id cli.Identity
}

func (d *Daemon) deviceFor(id cli.Identity) cli.Device { return device{d: d, id: id} }

func (v device) mayWrite() error {
	if v.id.Role != config.RoleAdmin {
		return cli.ErrPermission
	}
	return nil
}

func (v device) Running(context.Context) (config.Config, error) {
	cfg, _ := v.d.store.Get()
	return cfg, nil
}

func (v device) Update(_ context.Context, change func(*config.Config) error) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	return v.d.store.Update(change)
}

// swap is the local API's compare-and-swap write.
func (v device) swap(base uint64, next config.Config) (uint64, error) {
	if err := v.mayWrite(); err != nil {
		return 0, err
	}
	return v.d.store.CompareAndSwap(base, next)
}

func (v device) Save(_ context.Context, file string) error {
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

func (v device) FileExists(_ context.Context, file string) (bool, error) {
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

func (v device) SavedConfiguration(context.Context) (string, error) {
	path, _ := flashPath(v.d.opts.DataDir, StartupFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

func (v device) Version(context.Context) (cli.VersionInfo, error) {
	return cli.VersionInfo{Software: version.Version, Model: version.Model, Serial: v.d.serial, BootTime: v.d.boot}, nil
}

func (v device) CloudStatus(context.Context) (cloudmgmt.Status, error) {
	return v.d.features.cloudStatus(v.d.clock.Now()), nil
}

func (v device) ResetCloudTunnel(context.Context) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	v.d.log.Logf("CLOUD", logbuf.Notification, "CLOUD_RESET", "%s reset the cloud management tunnel.", v.id.User)
	v.d.features.resetCloud()
	return nil
}

func (v device) Unbind(ctx context.Context, code string) (string, error) {
	if err := v.mayWrite(); err != nil {
		return "", err
	}
	return v.d.features.unbind(ctx, code)
}

func (v device) DHCPStatus(context.Context) (dhcpopt.Status, error) {
	return v.d.features.dhcpStatus(v.d.clock.Now()), nil
}

func (v device) DNSHosts(context.Context) ([]cli.DNSHost, error) {
	cfg, _ := v.d.store.Get()
	hosts := make([]cli.DNSHost, 0, len(cfg.IPHosts))
	for _, h := range cfg.IPHosts {
		hosts = append(hosts, cli.DNSHost{Name: h.Name, Type: "S", Addr: h.Addr.String()})
	}
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	return hosts, nil
}

func (v device) Users(context.Context) ([]cli.VTYSession, error) {
	users := v.d.features.sessions()
	for i := range users {
		users[i].Current = users[i].Line == v.id.Line && users[i].User == v.id.User
	}
	return users, nil
}

func (v device) LogBuffer(context.Context) (logbuf.Snapshot, error) {
	return v.d.log.Snapshot(), nil
}

// backend adapts the daemon to the local API.
type backend struct{ d *Daemon }

func (b backend) Identify(token string) (cli.Identity, error) { return b.d.tokens.identify(token) }
func (b backend) Device(id cli.Identity) cli.Device           { return b.d.deviceFor(id) }
func (b backend) Running() (config.Config, uint64)            { return b.d.store.Get() }

func (b backend) Swap(id cli.Identity, base uint64, next config.Config) (uint64, error) {
	return device{d: b.d, id: id}.swap(base, next)
}

func (b backend) Exec(ctx context.Context, id cli.Identity, lines []string) (string, bool) {
	return cli.RunBatch(ctx, b.d.deviceFor(id), id, lines)
}

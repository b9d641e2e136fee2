package daemon

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/dhcpopt"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/netif"
	"github.com/netdevd/netdevd/internal/probe"
	"github.com/netdevd/netdevd/sshd"
)

// Environment of a shell child started for an SSH session.
const (
	EnvSession   = "NETDEVD_SESSION"    // the session token naming the SSH user
	EnvShellMode = "NETDEVD_SHELL_MODE" // "readline" or "line"
)

// hostKeyName is the SSH host key's file on flash:.
const hostKeyName = "ssh_host_ed25519_key"

// features are the parts of the device that follow the running
// configuration: the cloud connection, the DHCP client and the SSH server.
type features struct {
	cloud *cloudmgmt.Client
	dhcp  *dhcpopt.Client
	ssh   *sshd.Server
	net   *netif.Manager // static address and routes (network.go)
	probe *probe.Prober  // ping and tracert (network.go)
}

// startFeatures builds each feature and starts it under run.
func (d *Daemon) startFeatures(ctx context.Context, run func(string, func(context.Context) error)) error {
	roots, err := d.rootCAs()
	if err != nil {
		return err
	}
	logs, stopLogs := d.log.Subscribe(1024)
	go func() { <-ctx.Done(); stopLogs() }()
	d.features.cloud = cloudmgmt.New(cloudmgmt.Options{
		Serial: d.serial, MAC: d.mac, Sysname: d.sysname, RootCAs: roots,
		Clock: d.clock, Log: d.log, Zap: d.zap, LogSource: logs, LabPlainWS: d.opts.LabPlainWS,
		Exec: func(ctx context.Context, lines []string) (string, bool) {
			return cli.RunBatch(ctx, d.deviceFor(CloudIdentity), CloudIdentity, lines)
		},
		Telemetry: d.telemetry,
		Debug:     d.cloudDebug, DebugOn: d.cloudDebugOn, // logs.go
	})
	d.features.dhcp = dhcpopt.New(dhcpopt.Options{
		Interface: d.opts.VlanInterface1, ApplyToInterface: true,
		Clock: d.clock, Log: d.log, Zap: d.zap, OnLease: d.onLease,
	})
	d.features.ssh, err = sshd.New(sshd.Options{
		Listen: d.opts.SSHListen, HostKeyPath: filepath.Join(d.opts.DataDir, hostKeyName),
		Config: func() config.Config { cfg, _ := d.store.Get(); return cfg },
		Shell:  d.shellChild, Exec: d.sshExec,
		Log: d.log, Zap: d.zap, Clock: d.clock,
		ConsumeBackupCode: d.consumeBackupCode, // twofactor.go
	})
	if err != nil {
		return fmt.Errorf("ssh server: %w", err)
	}
	d.newNetwork(run) // network.go
	d.features.apply(d.running())
	run("cloud connection", d.features.cloud.Run)
	run("dhcp client", d.features.dhcp.Run)
	run("ssh server", d.features.ssh.Serve)
	return nil
}

func (d *Daemon) running() config.Config {
	cfg, _ := d.store.Get()
	return cfg
}

// rootCAs is the system roots plus the operator's --ca-file.
func (d *Daemon) rootCAs() (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if d.opts.CAFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(d.opts.CAFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", d.opts.CAFile)
	}
	return pool, nil
}

// onLease hands a DHCP lease's cloud domain and DNS servers to the cloud
// connection, which applies the priority rules of the spec.
func (d *Daemon) onLease(l dhcpopt.LeaseInfo) {
	d.features.cloud.SetDHCP(l.CloudDomain, l.DNSServers)
	d.features.net.Kick() // a lease came or went: check the interface now
}

// telemetry is the device's part of each telemetry report.
func (d *Daemon) telemetry() map[string]any {
	t := map[string]any{"uptime": int64(d.clock.Now().Sub(d.boot).Seconds())}
	if st := d.features.net.Interface(); st.Addr.IsValid() { // static or leased
		t["vlan_interface1_address"] = st.Addr.String()
	}
	return t
}

// shellChild is the command for one SSH session's shell: this binary's
// `shell`, calling the local API with a token that names the SSH login.
func (d *Daemon) shellChild(id device.Identity, mode string) (*exec.Cmd, func(), error) {
	self := d.opts.ShellBinary
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, nil, err
		}
	}
	token, revoke := d.tokens.issue(id)
	cmd := exec.Command(self, "shell", "--data-dir", d.opts.DataDir)
	cmd.Env = append(os.Environ(), EnvSession+"="+token, EnvShellMode+"="+mode)
	return cmd, revoke, nil
}

// sshExec runs `ssh host "LINE; LINE"` in-process as one session.
func (d *Daemon) sshExec(ctx context.Context, id device.Identity, lines []string, out io.Writer) bool {
	text, ok := cli.RunBatch(ctx, d.deviceFor(id), id, lines)
	io.WriteString(out, text)
	return ok
}

// apply hands the running configuration to each feature.
func (f *features) apply(cfg config.Config) {
	f.cloud.SetConfig(cfg.Cloud, cfg.DNSServers, cfg.IPHosts)
	f.dhcp.SetEnabled(cfg.Vlan1.DHCPAlloc)
	f.net.SetConfig(cfg.Vlan1.Address, cfg.StaticRoutes)
}

// errNotRunning answers actions that arrive before the features start
// (an action line in startup.cfg is replayed before them).
var errNotRunning = errors.New("the cloud connection is not running yet")

func (f *features) cloudStatus(now time.Time) device.CloudStatus {
	if f.cloud == nil {
		return device.CloudStatus{ConnState: "Idle", DeviceState: "Idle", ProcessState: "Idle", Now: now}
	}
	return f.cloud.Status()
}

func (f *features) resetCloud() {
	if f.cloud != nil {
		f.cloud.Reset()
	}
}

func (f *features) unbind(ctx context.Context, code string) (string, error) {
	if f.cloud == nil {
		return "", errNotRunning
	}
	return f.cloud.Unbind(ctx, code)
}

func (f *features) dhcpStatus(now time.Time) device.DHCPStatus {
	if f.dhcp == nil {
		return device.DHCPStatus{Now: now}
	}
	return f.dhcp.Status()
}

func (f *features) sessions() []device.VTYSession {
	if f.ssh == nil {
		return nil
	}
	return f.ssh.Sessions()
}

// Package daemon is `netdevd run`: it owns all device state (the running
// configuration, the cloud connection, the DHCP client, the SSH server, the
// log buffer) and serves the local API that every front end uses.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
	"github.com/netdevd/netdevd/configs"
	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/password"
	"github.com/netdevd/netdevd/internal/store"
)

// Options are `netdevd run`'s flags (architecture.md).
type Options struct {
	DataDir           string // flash:
	SSHListen         string
	Serial            string // "" = read or create DataDir/serial
	VlanInterface1    string // "" = no DHCP client
	CAFile            string
	AdminPasswordFile string
	// LabPlainWS allows ws:// and http:// controllers: the explicit lab
	// mode of the protocol, used by the demo and never by default.
	LabPlainWS bool
	// ShellBinary is the netdevd binary that SSH shell children run
	// (default: this executable).
	ShellBinary string
	// ProcDir is where CPU and memory figures are read ("" = /proc).
	ProcDir string
	Zap     *zap.Logger
	Clock   clock.Clock
}

// SocketName is the local API socket's name in the data directory.
const SocketName = "netdevd.sock"

// SocketPath is where the daemon for dataDir serves its local API.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Daemon is one running device.
type Daemon struct {
	opts   Options
	zap    *zap.Logger
	clock  clock.Clock
	log    *logbuf.Buffer
	store  *store.Store
	serial string
	mac    string
	boot   time.Time
	tokens tokens
	debug  debugSwitches // `debugging …` (logs.go)
	sys    system        // system.go

	features features
}

// New prepares the device: data directory, serial number, log, and the
// running configuration loaded from startup.cfg (or the factory one).
func New(o Options) (*Daemon, error) {
	if o.Zap == nil {
		o.Zap = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	serial := o.Serial
	if serial == "" {
		var err error
		if serial, err = loadSerial(o.DataDir); err != nil {
			return nil, fmt.Errorf("serial number: %w", err)
		}
	}
	d := &Daemon{
		opts: o, zap: o.Zap, clock: o.Clock, serial: serial, mac: macFromSerial(serial),
		boot:  o.Clock.Now(),
		store: store.New(config.Default()),
	}
	d.log = logbuf.New(logbuf.DefaultSize, o.Zap, o.Clock.Now)
	d.initSystem() // system.go
	if err := d.loadStartup(); err != nil {
		return nil, err
	}
	d.applyLogConfig(d.running())
	return d, nil
}

// Store is the running configuration (for tests and the demo).
func (d *Daemon) Store() *store.Store { return d.store }

// Serial is the device's serial number.
func (d *Daemon) Serial() string { return d.serial }

// Log is the device's log buffer.
func (d *Daemon) Log() *logbuf.Buffer { return d.log }

// loadStartup replays startup.cfg through the command grammar. A bad line
// is reported with its number and skipped; the file is never rewritten
// here, so the operator's broken file stays as it was until `save`.
func (d *Daemon) loadStartup() error {
	path := filepath.Join(d.opts.DataDir, StartupFile)
	text, err := os.ReadFile(path)
	firstBoot := errors.Is(err, os.ErrNotExist)
	switch {
	case firstBoot:
		text = []byte(configs.Factory)
		d.log.Log("CFG", logbuf.Notification, "CFG_FACTORY", "No startup configuration; booting with the factory configuration.")
	case err != nil:
		d.log.Logf("CFG", logbuf.Error, "CFG_LOAD_FAILED", "Cannot read %s: %v; booting with defaults.", StartupFile, err)
		return nil
	default:
		d.sys.bootFile = StartupFile // display startup
	}
	ctx := context.Background()
	start := time.Now()
	// Replay into one working copy and commit it once: actions in the file
	// (save, reset, unbinding-code) are refused as they are in a checked file.
	sc := d.newScratch()
	errs := cli.Replay(ctx, sc, string(text))
	built := sc.cfg.Config()
	if err := d.store.Update(func(c *config.Config) error { *c = built; return nil }); err != nil {
		return fmt.Errorf("loading %s: %w", StartupFile, err)
	}
	for _, e := range errs {
		d.log.Logf("CFG", logbuf.Warning, "CFG_LINE_ERROR", "%s line %d: %q: %s",
			StartupFile, e.Line, redact(e.Text), e.Message)
	}
	d.zap.Info("configuration loaded", zap.Bool("factory", firstBoot),
		zap.Int("bad_lines", len(errs)), zap.Duration("took", time.Since(start)))
	if firstBoot && d.opts.AdminPasswordFile != "" {
		return d.createFirstAdmin()
	}
	return nil
}

// secretWords matches the values that must never reach a log.
var secretWords = regexp.MustCompile(`(?i)((?:password\s+\S+|unbinding-code|secret\s+cipher)\s+)\S+`)

// redact hides the secret value of a configuration line.
func redact(line string) string { return secretWords.ReplaceAllString(line, "${1}******") }

// createFirstAdmin makes local-user admin from --admin-password-file: the
// only way besides the console that a device gets its first administrator.
func (d *Daemon) createFirstAdmin() error {
	b, err := os.ReadFile(d.opts.AdminPasswordFile)
	if err != nil {
		return fmt.Errorf("admin password file: %w", err)
	}
	pw := string(trimNewline(b))
	if len(pw) < 1 || len(pw) > 63 {
		return fmt.Errorf("admin password file: password must be 1-63 characters")
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	err = d.store.Update(func(c *config.Config) error {
		u, ok := c.User("admin")
		if !ok {
			c.LocalUsers = append(c.LocalUsers, config.LocalUser{Name: "admin"})
			u = &c.LocalUsers[len(c.LocalUsers)-1]
		}
		u.PasswordHash, u.ServiceSSH, u.Role = hash, true, config.RoleAdmin
		return nil
	})
	if err == nil {
		d.log.Log("CFG", logbuf.Notification, "CFG_ADMIN_CREATED", "Created local user admin (network-admin, ssh) from the admin password file.")
	}
	return err
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Run serves until ctx ends, then stops every part and waits for it.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	if err := d.startFeatures(ctx, run); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	// The socket appears once the features (the SSH server among them) are
	// up, already listening: front ends and scripts take it as the sign
	// that the device is ready.
	sock := SocketPath(d.opts.DataDir)
	ln, err := localapi.Listen(sock)
	if err != nil {
		cancel()
		wg.Wait()
		return fmt.Errorf("local API: %w", err)
	}
	run("local API", func(ctx context.Context) error {
		return localapi.Serve(ctx, ln, sock, backend{d})
	})
	run("configuration watcher", d.followConfig)
	run("cpu sampler", d.sys.cpu.Run)
	d.log.Logf("SYSTEM", logbuf.Notification, "SYSTEM_READY", "Device %s is up (serial %s).", d.sysname(), d.serial)
	reboot := d.stopRequested(ctx) // system.go
	cancel()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if reboot {
		return ErrReboot
	}
	return nil
}

func (d *Daemon) sysname() string {
	cfg, _ := d.store.Get()
	return cfg.Sysname
}

// followConfig hands every configuration change to the features.
func (d *Daemon) followConfig(ctx context.Context) error {
	changed, stop := d.store.Watch()
	defer stop()
	for {
		cfg, _ := d.store.Get()
		d.applyLogConfig(cfg)
		d.features.apply(cfg)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// RunLines runs CLI lines as one console session (the demo configures the
// device this way, through the same grammar as an engineer).
func (d *Daemon) RunLines(ctx context.Context, lines ...string) (string, bool) {
	return cli.RunBatch(ctx, d.deviceFor(Console), Console, lines)
}

// CloudStatus is the cloud connection's status snapshot.
func (d *Daemon) CloudStatus() device.CloudStatus { return d.features.cloudStatus(d.clock.Now()) }

// Sysname is the device's current name.
func (d *Daemon) Sysname() string { return d.sysname() }

package cli

import (
	"context"
	"errors"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/dhcpopt"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// ErrPermission is returned by a Device when the caller's role may not do
// what it asked; the grammar prints "Permission denied.".
var ErrPermission = errors.New("permission denied")

// Identity is who runs a session. It travels with every local API call.
type Identity struct {
	User   string      `json:"user"`   // local user, or "console"
	Role   config.Role `json:"role"`   // network-admin or network-operator
	Line   string      `json:"line"`   // "VTY 0", "CON 0", "CLOUD"
	Source string      `json:"source"` // remote address, when there is one
}

// VersionInfo is what `display version` shows.
type VersionInfo struct {
	Software string    `json:"software"`
	Model    string    `json:"model"`
	Serial   string    `json:"serial"`
	BootTime time.Time `json:"boot_time"`
}

// DNSHost is one line of `display dns host`.
type DNSHost struct {
	Name  string        `json:"name"`
	Type  string        `json:"type"` // "S" static (ip host), "D" dynamic (resolved cache)
	Addr  string        `json:"addr"`
	TTL   time.Duration `json:"ttl"`
	Alias string        `json:"alias"`
}

// VTYSession is one line of `display users`.
type VTYSession struct {
	Idx     int           `json:"idx"`
	Line    string        `json:"line"` // "VTY 0"
	Idle    time.Duration `json:"idle"`
	Since   time.Time     `json:"since"`
	Pid     int           `json:"pid"`
	Type    string        `json:"type"` // "SSH"
	User    string        `json:"user"`
	Source  string        `json:"source"`
	Current bool          `json:"current"` // the session asking; shown with "+"
}

// Device is everything the command grammar may ask of the device. The daemon
// implements it in-process (startup.cfg, cloud exec, SSH exec) and the local
// API client implements it for shells in other processes. Every method checks
// the caller's role in the daemon and returns ErrPermission when it may not.
type Device interface {
	// Running returns the running configuration.
	Running(ctx context.Context) (config.Config, error)
	// Update changes the running configuration atomically. change may run
	// more than once (on a concurrent write it is re-run on the fresh
	// configuration), so it must depend only on its argument.
	Update(ctx context.Context, change func(*config.Config) error) error
	// Save writes the running configuration to file on flash: (a bare name
	// such as "startup.cfg") atomically: write, fsync, rename, fsync dir.
	Save(ctx context.Context, file string) error
	// FileExists reports whether file exists on flash:.
	FileExists(ctx context.Context, file string) (bool, error)
	// SavedConfiguration returns the text of the startup file as saved.
	SavedConfiguration(ctx context.Context) (string, error)
	Version(ctx context.Context) (VersionInfo, error)
	CloudStatus(ctx context.Context) (cloudmgmt.Status, error)
	// ResetCloudTunnel drops the cloud connection and starts from the top.
	ResetCloudTunnel(ctx context.Context) error
	// Unbind sends an unbinding code and returns the controller's verdict
	// as the line to print. The code is never logged.
	Unbind(ctx context.Context, code string) (string, error)
	DHCPStatus(ctx context.Context) (dhcpopt.Status, error)
	DNSHosts(ctx context.Context) ([]DNSHost, error)
	Users(ctx context.Context) ([]VTYSession, error)
	LogBuffer(ctx context.Context) (logbuf.Snapshot, error)
	// ResetLogBuffer empties the log buffer (`reset logbuffer`).
	ResetLogBuffer(ctx context.Context) error
	// SubscribeLogs streams every new log entry (debugging included) until
	// ctx ends, then closes the channel (`terminal monitor`).
	SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error)
	// Debugging returns the device's debugging switches (`display debugging`).
	Debugging(ctx context.Context) (DebugSwitches, error)
	// SetDebugging turns the switches set in which on or off
	// (`debugging …`, `undo debugging …`).
	SetDebugging(ctx context.Context, which DebugSwitches, on bool) error
	// ArchiveConfiguration saves the running configuration as the next
	// archive file (`archive configuration`) and returns the file's name.
	ArchiveConfiguration(ctx context.Context) (string, error)
	// Archives lists the archive files, oldest first (`display archive configuration`).
	Archives(ctx context.Context) (ArchiveInfo, error)
	// ReplaceConfiguration replaces the whole running configuration with
	// the one file on flash: describes, or changes nothing if a line is bad.
	ReplaceConfiguration(ctx context.Context, file string) error
	// BackupStartup copies flash:/startup.cfg to an SFTP server.
	BackupStartup(ctx context.Context, t SFTPTarget) error
	// RestoreStartup downloads a configuration from an SFTP server and,
	// when every line of it loads, makes it flash:/startup.cfg.
	RestoreStartup(ctx context.Context, t SFTPTarget) error
}

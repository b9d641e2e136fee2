// Package device is the contract between the command grammar and the
// device: who is asking (Identity), the plain values the engines report
// (cloud connection, DHCP client, logs, sessions, files), and the device's
// roles as small interfaces that Device composes.
//
// It is a leaf: it imports no project package but internal/config, and it
// renders nothing. How the device prints these values is cli's job.
//
// The daemon implements Device in-process (startup.cfg, SSH exec, the
// cloud's exec) and the local API client implements it over the socket for
// shells in other processes. Every method checks the caller's role in the
// daemon and returns ErrPermission when it may not.
package device

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/netdevd/netdevd/internal/config"
)

// ErrPermission is returned when the caller's role may not do what it
// asked; the grammar prints "Permission denied.".
var ErrPermission = errors.New("permission denied")

// Identity is who runs a session. It travels with every local API call.
type Identity struct {
	User   string      `json:"user"`   // local user, or "console"
	Role   config.Role `json:"role"`   // network-admin or network-operator
	Line   string      `json:"line"`   // "VTY 0", "CON 0", "CLOUD"
	Source string      `json:"source"` // remote address, when there is one
}

// Device is everything the command grammar may ask of the device.
type Device interface {
	Configuration
	Cloud
	DHCP
	Network
	Flash
	Logs
	Sessions
	Security
	System
}

// Configuration is the running configuration and the startup file.
type Configuration interface {
	// Running returns the running configuration.
	Running(ctx context.Context) (config.Config, error)
	// Update changes the running configuration atomically. change may run
	// more than once (on a concurrent write it is re-run on the fresh
	// configuration), so it must depend only on its argument.
	Update(ctx context.Context, change func(*config.Config) error) error
	// Save writes the running configuration to file on flash: (a bare name
	// such as "startup.cfg") atomically: write, fsync, rename, fsync dir.
	Save(ctx context.Context, file string) error
	// SavedConfiguration returns the text of the startup file as saved.
	SavedConfiguration(ctx context.Context) (string, error)
	// Startup is `display startup`: the file this boot loaded and the one
	// the next boot loads.
	Startup(ctx context.Context) (StartupInfo, error)
}

// Cloud is the cloud connection.
type Cloud interface {
	CloudStatus(ctx context.Context) (CloudStatus, error)
	// ResetCloudTunnel drops the cloud connection and starts from the top.
	ResetCloudTunnel(ctx context.Context) error
	// Unbind sends an unbinding code and returns the controller's verdict
	// as the line to print. The code is never logged.
	Unbind(ctx context.Context, code string) (string, error)
}

// DHCP is Vlan-interface1's DHCP client.
type DHCP interface {
	DHCPStatus(ctx context.Context) (DHCPStatus, error)
}

// Network is what the device knows of the network it sits on.
type Network interface {
	// DNSHosts is `display dns host`: static and cached names.
	DNSHosts(ctx context.Context) ([]DNSHost, error)
	// Interface is Vlan-interface1's state (`display interface`,
	// `display ip interface`).
	Interface(ctx context.Context) (InterfaceStatus, error)
	// Routes is the routing table (`display ip routing-table`).
	Routes(ctx context.Context) ([]Route, error)
	// Neighbors is the ARP table (`display arp`).
	Neighbors(ctx context.Context) ([]Neighbor, error)
	// ResolveHost turns a host name into an IPv4 address the way the cloud
	// connection resolves its server: `ip host`, `dns server`, DHCP option 6.
	ResolveHost(ctx context.Context, name string) (netip.Addr, error)
	// Ping sends echo requests and streams one reply (or timeout) per
	// request; the channel is closed when the count is done or ctx ends.
	Ping(ctx context.Context, req PingRequest) (<-chan PingReply, error)
	// Tracert streams one outcome per probe, hop by hop; the channel is
	// closed when the trace is done or ctx ends.
	Tracert(ctx context.Context, req TracertRequest) (<-chan TracertProbe, error)
}

// Flash is the files on flash:, which the daemon owns.
type Flash interface {
	// FileExists reports whether file exists on flash:.
	FileExists(ctx context.Context, file string) (bool, error)
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
	// Dir lists flash:'s top directory (`dir`).
	Dir(ctx context.Context) (FlashListing, error)
	// WriteFile writes data to file on flash: (a bare name), replacing
	// it, or at its end when appendTo is set (`display … > FILE`,
	// `display … >> FILE`). The device's own files are refused.
	WriteFile(ctx context.Context, file string, data []byte, appendTo bool) error
}

// Logs is the log buffer and the debugging switches.
type Logs interface {
	LogBuffer(ctx context.Context) (LogSnapshot, error)
	// ResetLogBuffer empties the log buffer (`reset logbuffer`).
	ResetLogBuffer(ctx context.Context) error
	// SubscribeLogs streams every new log entry (debugging included) until
	// ctx ends, then closes the channel (`terminal monitor`).
	SubscribeLogs(ctx context.Context) (<-chan LogEntry, error)
	// Debugging returns the device's debugging switches (`display debugging`).
	Debugging(ctx context.Context) (DebugSwitches, error)
	// SetDebugging turns the switches set in which on or off
	// (`debugging …`, `undo debugging …`).
	SetDebugging(ctx context.Context, which DebugSwitches, on bool) error
}

// Sessions is the users logged in.
type Sessions interface {
	// Users is `display users`: the console sessions, then the VTY lines.
	Users(ctx context.Context) ([]VTYSession, error)
	// AttachConsole holds the console line (CON 0) for the shell with
	// process id pid until detach is called, so that `display users` lists
	// it. Only the console may.
	AttachConsole(ctx context.Context, pid int) (detach func(), err error)
}

// Security is what the device's defences count.
type Security interface {
	// ACLMatches is how many SSH connections each ACL rule has matched
	// (`display acl`).
	ACLMatches(ctx context.Context) ([]ACLMatch, error)
}

// System is the device itself.
type System interface {
	// Version is the device's identity (`display version`, `display device`,
	// `display device manuinfo`).
	Version(ctx context.Context) (VersionInfo, error)
	// Resources is the CPU and memory in use (`display cpu-usage`,
	// `display memory`).
	Resources(ctx context.Context) (Resources, error)
	// Reboot restarts the device from its startup configuration once the
	// caller's request has ended (`reboot`): a clean shutdown, then the
	// service manager starts it again.
	Reboot(ctx context.Context) error
}

// Message is a failure in the device's own words, such as "The file
// a.cfg does not exist.": the grammar prints it as the command's message
// line. The daemon and the engines build every user-facing failure with
// it, so that it reads as the device's answer, not as a Go error string.
type Message string

func (m Message) Error() string { return string(m) }

// Messagef formats a Message.
func Messagef(format string, a ...any) Message { return Message(fmt.Sprintf(format, a...)) }

package device

import (
	"time"

	"github.com/netdevd/netdevd/internal/config"
)

// VersionInfo is the device's identity: `display version`, `display
// device` and `display device manuinfo` (system.go).
type VersionInfo struct {
	Software string    `json:"software"`
	Model    string    `json:"model"`
	Serial   string    `json:"serial"`
	BootTime time.Time `json:"boot_time"`
	// MAC is the device's base MAC address, "02:ab:cd:ef:01:23".
	MAC string `json:"mac"`
	// Manufactured is when the device first booted (its serial was made).
	Manufactured time.Time `json:"manufactured"`
	// LastReboot is why the device last started: RebootCold or RebootUser.
	LastReboot string `json:"last_reboot"`
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
	// SSH sessions only (`display ssh server session`): the cipher the
	// server sends with, and the authentication attempts of the login.
	Cipher       string `json:"cipher,omitempty"`
	AuthAttempts int    `json:"auth_attempts,omitempty"`
}

// ACLMatch is how many SSH connections one ACL rule has matched since the
// daemon started (`display acl` shows it as `(N times matched)`). A rule
// changed since counts from zero: the count belongs to the rule as it is.
type ACLMatch struct {
	ACL   int            `json:"acl"`
	Rule  config.ACLRule `json:"rule"`
	Count uint64         `json:"count"`
}

// DebugSwitches are the device's debugging switches (`debugging …`). They
// are global to the device, as on Comware, and not part of the
// configuration: a reboot turns them all off.
type DebugSwitches struct {
	CloudEvent  bool `json:"cloud_event"`  // debugging cloud-management event
	CloudPacket bool `json:"cloud_packet"` // debugging cloud-management packet
}

// AllDebugging is every switch (`undo debugging all`).
func AllDebugging() DebugSwitches { return DebugSwitches{CloudEvent: true, CloudPacket: true} }

// Set turns the switches set in which on or off in d.
func (d *DebugSwitches) Set(which DebugSwitches, on bool) {
	if which.CloudEvent {
		d.CloudEvent = on
	}
	if which.CloudPacket {
		d.CloudPacket = on
	}
}

// ArchiveFile is one archive file on flash:.
type ArchiveFile struct {
	Name string    `json:"name"` // "my_archive_1.cfg"
	Time time.Time `json:"time"` // when it was saved
}

// ArchiveInfo is what `display archive configuration` lists.
type ArchiveInfo struct {
	Files []ArchiveFile `json:"files"` // oldest first
	Next  string        `json:"next"`  // the name the next archive gets; "" when archiving is off
}

// SFTPTarget is one transfer's server, file and credentials. The password
// is never logged and never kept in history.
type SFTPTarget struct {
	URL                string `json:"url"`                            // sftp://USER@HOST[:PORT]/PATH
	Password           string `json:"password"`                       // the SFTP user's password
	HostKeyFingerprint string `json:"host_key_fingerprint,omitempty"` // "SHA256:…"; "" = trust on first use
}

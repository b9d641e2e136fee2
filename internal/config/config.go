// Package config is the device's running configuration as data: the model,
// its defaults and its validation. The command grammar (cli/) is the only
// writer of this model and the only renderer of it as text, so that a
// rendered file always replays to the same model.
package config

import (
	"fmt"
	"net/netip"
	"slices"
)

// Defaults (cli.md, cloud-management.md). Defaults never appear in rendered text.
const (
	DefaultSysname        = "netdevd"
	DefaultCloudPort      = 19443
	DefaultKeepalive      = 180
	DefaultPing           = 60
	DefaultSSHAuthRetries = 3
	DefaultSSHAuthTimeout = 60
	DefaultIdleMinutes    = 10
	DefaultScreenLength   = 24 // Comware's lines per page
	DefaultIdleSeconds    = 0
	MaxBackups            = 8
	MaxDNSServers         = 6
)

// Role is a user role (cli.md "Roles").
type Role string

const (
	RoleAdmin    Role = "network-admin"
	RoleOperator Role = "network-operator"
)

// Config is the whole running configuration. It is a value: Clone before
// changing a copy that someone else may hold.
type Config struct {
	Sysname    string
	DNSServers []netip.Addr // in the order typed, tried in that order
	IPHosts    []IPHost     // static name→address, in the order typed
	Vlan1      Vlan1
	SSH        SSH
	SSH2       SSH2 // `ssh2 algorithm …` (ssh2.go)
	VTY        VTY
	LocalUsers []LocalUser // in the order created
	Cloud      Cloud
	InfoCenter InfoCenter // `info-center …`
	Archive    Archive    // `archive configuration …`
	ACLs       []ACL      // `acl basic N` (acl.go), ascending numbers
	// StaticRoutes are `ip route-static …` (network.go), in the order typed.
	StaticRoutes []StaticRoute
}

// InfoCenter is the `info-center …` settings.
type InfoCenter struct {
	LogBufferSize int // `info-center logbuffer size` 1-1024 (default DefaultLogBufferSize)
}

// DefaultLogBufferSize is Comware's default log buffer size (logbuf.DefaultSize).
const DefaultLogBufferSize = 512

// IPHost is one `ip host NAME A.B.C.D`.
type IPHost struct {
	Name string
	Addr netip.Addr
}

// Vlan1 is `interface Vlan-interface1`.
type Vlan1 struct {
	DHCPAlloc bool         // `ip address dhcp-alloc`
	Address   netip.Prefix // `ip address A.B.C.D MASK` (network.go); invalid = none
}

// SSH is the `ssh server …` settings.
type SSH struct {
	Enabled     bool // `ssh server enable`
	AuthRetries int  // `ssh server authentication-retries` 1-5
	AuthTimeout int  // `ssh server authentication-timeout` 1-120 seconds
	ACL         int  // `ssh server acl N` (2000-2999); 0 = none
}

// VTY is `line vty 0 63`.
type VTY struct {
	AuthMode    string // "scheme" (default) or "none" or "password"
	UserRole    Role   // role for auth-mode none; empty = network-operator
	IdleMinutes int    // `idle-timeout MIN [SEC]`; 0 0 disables
	IdleSeconds int
	// ScreenLength is `screen-length N`: lines per page for sessions on
	// the VTY lines; 0 disables paging.
	ScreenLength int
}

// LocalUser is `local-user NAME class manage`.
type LocalUser struct {
	Name         string
	PasswordHash string   // never the plain password; see internal/password
	ServiceSSH   bool     // `service-type ssh`
	Role         Role     // `authorization-attribute user-role`; empty = network-operator
	PublicKeys   []string // authorized keys, OpenSSH one-line form
	// TOTPSecret is the sealed TOTP secret (internal/totp.Seal, `$t$1$…`);
	// empty = no second factor. BackupCodeHashes are the unused one-time
	// backup codes, salted SHA-256 (internal/totp.HashBackupCode).
	TOTPSecret       string
	BackupCodeHashes []string
}

// Cloud is every `cloud-management …` setting.
type Cloud struct {
	ServerDomain string   // empty = none
	ServerPort   int      // default DefaultCloudPort
	Backups      []Backup // up to MaxBackups, in the order typed
	Keepalive    int      // seconds
	Ping         int      // seconds
}

// Backup is `cloud-management backup-server domain D [ port P ]`.
type Backup struct {
	Domain string
	Port   int // 0 = use Cloud.ServerPort
}

// Default returns the configuration of a device with nothing configured.
func Default() Config {
	return Config{
		Sysname:    DefaultSysname,
		SSH:        SSH{AuthRetries: DefaultSSHAuthRetries, AuthTimeout: DefaultSSHAuthTimeout},
		VTY:        VTY{AuthMode: "scheme", IdleMinutes: DefaultIdleMinutes, IdleSeconds: DefaultIdleSeconds, ScreenLength: DefaultScreenLength},
		Cloud:      Cloud{ServerPort: DefaultCloudPort, Keepalive: DefaultKeepalive, Ping: DefaultPing},
		InfoCenter: InfoCenter{LogBufferSize: DefaultLogBufferSize},
		Archive:    Archive{Max: DefaultArchiveMax},
	}
}

// Clone returns a deep copy.
func (c Config) Clone() Config {
	c.DNSServers = slices.Clone(c.DNSServers)
	c.IPHosts = slices.Clone(c.IPHosts)
	c.Cloud.Backups = slices.Clone(c.Cloud.Backups)
	c.ACLs = cloneACLs(c.ACLs)
	c.StaticRoutes = cloneRoutes(c.StaticRoutes)
	c.SSH2 = c.SSH2.clone()
	users := make([]LocalUser, len(c.LocalUsers))
	for i, u := range c.LocalUsers {
		u.PublicKeys = slices.Clone(u.PublicKeys)
		u.BackupCodeHashes = slices.Clone(u.BackupCodeHashes)
		users[i] = u
	}
	if c.LocalUsers == nil {
		users = nil
	}
	c.LocalUsers = users
	return c
}

// User returns the local user called name.
func (c *Config) User(name string) (*LocalUser, bool) {
	for i := range c.LocalUsers {
		if c.LocalUsers[i].Name == name {
			return &c.LocalUsers[i], true
		}
	}
	return nil, false
}

// EffectiveRole is the role a user gets (network-operator when unset).
func (u LocalUser) EffectiveRole() Role {
	if u.Role == "" {
		return RoleOperator
	}
	return u.Role
}

// Validate checks ranges and counts. The grammar refuses bad input before it
// gets here; the daemon runs this again on every write so that no client can
// store what the grammar would refuse.
func (c Config) Validate() error {
	switch {
	case len(c.Sysname) < 1 || len(c.Sysname) > 64:
		return fmt.Errorf("sysname length %d out of 1-64", len(c.Sysname))
	case len(c.DNSServers) > MaxDNSServers:
		return fmt.Errorf("%d dns servers, at most %d", len(c.DNSServers), MaxDNSServers)
	case c.SSH.AuthRetries < 1 || c.SSH.AuthRetries > 5:
		return fmt.Errorf("ssh authentication-retries %d out of 1-5", c.SSH.AuthRetries)
	case c.SSH.AuthTimeout < 1 || c.SSH.AuthTimeout > 120:
		return fmt.Errorf("ssh authentication-timeout %d out of 1-120", c.SSH.AuthTimeout)
	case c.Cloud.ServerPort < 1 || c.Cloud.ServerPort > 65535:
		return fmt.Errorf("cloud server port %d out of 1-65535", c.Cloud.ServerPort)
	case c.Cloud.Keepalive < 10 || c.Cloud.Keepalive > 3600:
		return fmt.Errorf("cloud keepalive %d out of 10-3600", c.Cloud.Keepalive)
	case c.Cloud.Ping < 10 || c.Cloud.Ping > 3600:
		return fmt.Errorf("cloud ping %d out of 10-3600", c.Cloud.Ping)
	case len(c.Cloud.Backups) > MaxBackups:
		return fmt.Errorf("%d backup servers, at most %d", len(c.Cloud.Backups), MaxBackups)
	case len(c.Cloud.ServerDomain) > 253:
		return fmt.Errorf("cloud server domain longer than 253")
	case c.InfoCenter.LogBufferSize < 1 || c.InfoCenter.LogBufferSize > 1024:
		return fmt.Errorf("info-center logbuffer size %d out of 1-1024", c.InfoCenter.LogBufferSize)
	}
	if err := c.SSH2.validate(); err != nil {
		return err
	}
	if err := c.validateACLs(); err != nil {
		return err
	}
	if err := c.Archive.validate(); err != nil {
		return err
	}
	if err := c.validateNetwork(); err != nil { // network.go
		return err
	}
	for _, b := range c.Cloud.Backups {
		if b.Port < 0 || b.Port > 65535 || b.Domain == "" || len(b.Domain) > 253 {
			return fmt.Errorf("bad backup server %q port %d", b.Domain, b.Port)
		}
	}
	for _, u := range c.LocalUsers {
		if u.Name == "" || len(u.Name) > 55 {
			return fmt.Errorf("bad local-user name %q", u.Name)
		}
		if err := validTwoFactor(u); err != nil { // twofactor.go
			return err
		}
	}
	return nil
}

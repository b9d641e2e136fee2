// Package configs ships the device's factory configuration and example
// files for operators (dnsmasq, Kea, systemd).
package configs

import _ "embed"

// Factory is the configuration a device boots with when flash: holds no
// startup.cfg: DHCP on Vlan-interface1 (zero-touch), SSH on, VTY login by
// local user. It holds no user and no password.
//
//go:embed factory.cfg
var Factory string

package cli

import (
	"fmt"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// Render writes cfg in Comware's file layout: `#` first, sections separated
// by `#` lines, global commands indented one space, view blocks at column 0
// with their commands indented, only non-default settings, `return` last.
// As on Comware, a few sections are always there: the software version
// (cmd_version.go; replay skips it), the sysname, and the line sections with
// their defaults (cmd_lines.go). Sections, in this fixed order, appear only
// when they hold something: version; sysname; info-center; DNS (dns server,
// ip host); interface Vlan-interface1; ip route-static; SSH server; line
// class console, line class vty, line con 0, line vty 0 63; archive; one
// block per ACL (ascending numbers, cmd_acl.go); one block per local user
// (in creation order); cloud-management (just before return, as
// cloud-management.md asks).
func Render(cfg config.Config) string {
	var b strings.Builder
	b.WriteString("#\n")
	sections := [][]string{
		versionSection(), // cmd_version.go
		sysnameSection(cfg),
		infoCenterSection(cfg),
		dnsSection(cfg),
		vlanInterfaceBlock(cfg, false),
		staticRouteSection(cfg), // cmd_network.go
		sshSection(cfg),
	}
	sections = append(sections, lineSections(cfg)...) // cmd_lines.go
	sections = append(sections, archiveSection(cfg))
	sections = append(sections, aclBlocks(cfg)...) // cmd_acl.go
	for _, u := range cfg.LocalUsers {
		sections = append(sections, localUserBlock(u))
	}
	sections = append(sections, cloudSection(cfg))
	for _, lines := range sections {
		if len(lines) == 0 {
			continue
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		b.WriteString("#\n")
	}
	b.WriteString("return\n")
	return b.String()
}

// renderBlock is `display this` in a sub-view: the one block, framed.
func renderBlock(lines []string) string {
	return "#\n" + strings.Join(lines, "\n") + "\n#\nreturn\n"
}

// sysnameSection is always there, as on Comware.
func sysnameSection(cfg config.Config) []string {
	return []string{" sysname " + quoteValue(cfg.Sysname)}
}

func dnsSection(cfg config.Config) []string {
	var lines []string
	for _, a := range cfg.DNSServers {
		lines = append(lines, " dns server "+a.String())
	}
	for _, h := range cfg.IPHosts {
		lines = append(lines, fmt.Sprintf(" ip host %s %s", h.Name, h.Addr))
	}
	return lines
}

// vlanInterfaceBlock is the interface block; always is for `display this`,
// which shows the view's header even when nothing is configured.
func vlanInterfaceBlock(cfg config.Config, always bool) []string {
	children := ipAddressLine(cfg) // cmd_network.go
	return block("interface Vlan-interface1", children, always)
}

func sshSection(cfg config.Config) []string {
	var lines []string
	if cfg.SSH.Enabled {
		lines = append(lines, " ssh server enable")
	}
	if cfg.SSH.AuthRetries != config.DefaultSSHAuthRetries {
		lines = append(lines, fmt.Sprintf(" ssh server authentication-retries %d", cfg.SSH.AuthRetries))
	}
	if cfg.SSH.AuthTimeout != config.DefaultSSHAuthTimeout {
		lines = append(lines, fmt.Sprintf(" ssh server authentication-timeout %d", cfg.SSH.AuthTimeout))
	}
	if cfg.SSH.ACL != 0 {
		lines = append(lines, fmt.Sprintf(" ssh server acl %d", cfg.SSH.ACL))
	}
	return append(lines, ssh2Lines(cfg)...) // cmd_ssh2.go
}

// localUserBlock is always shown: the user exists even with no attributes.
func localUserBlock(u config.LocalUser) []string {
	children := []string{}
	if u.PasswordHash != "" {
		children = append(children, " password hash "+u.PasswordHash)
	}
	if u.ServiceSSH {
		children = append(children, " service-type ssh")
	}
	if u.Role != "" {
		children = append(children, " authorization-attribute user-role "+string(u.Role))
	}
	for _, k := range u.PublicKeys {
		children = append(children, " public-key "+strings.Join(strings.Fields(k), " "))
	}
	children = append(children, twoFactorLines(u)...) // cmd_twofactor.go
	return block("local-user "+u.Name+" class manage", children, true)
}

func cloudSection(cfg config.Config) []string {
	var lines []string
	c := cfg.Cloud
	if c.ServerDomain != "" {
		lines = append(lines, " cloud-management server domain "+c.ServerDomain)
	}
	if c.ServerPort != config.DefaultCloudPort {
		lines = append(lines, fmt.Sprintf(" cloud-management server port %d", c.ServerPort))
	}
	for _, b := range c.Backups {
		line := " cloud-management backup-server domain " + b.Domain
		if b.Port != 0 {
			line += fmt.Sprintf(" port %d", b.Port)
		}
		lines = append(lines, line)
	}
	if c.Keepalive != config.DefaultKeepalive {
		lines = append(lines, fmt.Sprintf(" cloud-management keepalive %d", c.Keepalive))
	}
	if c.Ping != config.DefaultPing {
		lines = append(lines, fmt.Sprintf(" cloud-management ping %d", c.Ping))
	}
	return lines
}

// block is a view header with its children, or nothing when it has none
// and always is false.
func block(header string, children []string, always bool) []string {
	if len(children) == 0 && !always {
		return nil
	}
	return append([]string{header}, children...)
}

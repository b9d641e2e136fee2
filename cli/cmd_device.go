package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// The device's own displays in Comware 7's shapes (`display cpu-usage`,
// `display memory`, `display startup`, `display local-user`, `display ssh
// server session`), `dir` and `reboot`. Each display is a function of its
// values (…Text) so that the format tests need no device.

// systemDisplays are the `display` commands of this file and cmd_version.go.
func systemDisplays(leaf func(*node, handler) *node) []*node {
	return append(displayDeviceCommands(leaf), // cmd_version.go
		leaf(kw("cpu-usage", "CPU usage statistics"), runDisplayCPU),
		leaf(kw("local-user", "Local user information"), runDisplayLocalUser),
		leaf(kw("memory", "Memory usage statistics"), runDisplayMemory),
		leaf(kw("startup", "Startup configuration file information"), runDisplayStartup),
	)
}

// shows is a display handler: it reads a value from the device and prints
// what text makes of it.
func shows[T any](read func(e *invocation) (T, error), text func(e *invocation, v T) string) handler {
	return func(e *invocation) error {
		v, err := read(e)
		if err != nil {
			return err
		}
		e.out.WriteString(text(e, v))
		return nil
	}
}

// The device reads the displays of this file and cmd_version.go show.
var (
	readVersion   = func(e *invocation) (device.VersionInfo, error) { return e.s.dev.Version(e.ctx) }
	readResources = func(e *invocation) (device.Resources, error) { return e.s.dev.Resources(e.ctx) }
	readUsers     = func(e *invocation) ([]device.VTYSession, error) { return e.s.dev.Users(e.ctx) }
)

var runDisplayCPU = shows(readResources, func(_ *invocation, r device.Resources) string { return CPUUsageText(r.CPU) })

// CPUUsageText is `display cpu-usage` of slot 1's one CPU: the whole box.
func CPUUsageText(c device.CPUUsage) string {
	return "Slot 1 CPU 0 CPU usage:\n" +
		fmt.Sprintf("%8d%% in last 5 seconds\n", c.Last5Sec) +
		fmt.Sprintf("%8d%% in last 1 minute\n", c.Last1Min) +
		fmt.Sprintf("%8d%% in last 5 minutes\n", c.Last5Min)
}

var runDisplayMemory = shows(readResources, func(_ *invocation, r device.Resources) string { return MemoryText(r.Memory) })

// MemoryText is `display memory` in KB. FreeRatio is Free over Total, as
// the columns show it.
func MemoryText(m device.MemoryUsage) string {
	ratio := 0.0
	if m.Total > 0 {
		ratio = float64(m.Free) * 100 / float64(m.Total)
	}
	bufCache := m.Buffers + m.Cached
	return "Memory statistics are measured in KB:\n" +
		"Slot 1:\n" +
		fmt.Sprintf("%18s%10s%10s%10s%10s%10s%12s\n", "Total", "Used", "Free", "Shared", "Buffers", "Cached", "FreeRatio") +
		fmt.Sprintf("Mem:%14d%10d%10d%10d%10d%10d%11.1f%%\n", m.Total, m.Used(), m.Free, m.Shared, m.Buffers, m.Cached, ratio) +
		fmt.Sprintf("-/+ Buffers/Cache:%10d%10d\n", subKB(m.Used(), bufCache), m.Free+bufCache) +
		fmt.Sprintf("Swap:%13d%10d%10d\n", m.SwapTotal, m.SwapUsed(), m.SwapFree)
}

func subKB(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

var runDisplayStartup = shows(func(e *invocation) (device.StartupInfo, error) { return e.s.dev.Startup(e.ctx) },
	func(_ *invocation, st device.StartupInfo) string { return StartupText(st) })

// StartupText is `display startup`. The device has no backup startup file.
func StartupText(st device.StartupInfo) string {
	file := func(name string) string {
		if name == "" {
			return "NULL"
		}
		return "flash:/" + name
	}
	return " Current startup saved-configuration file: " + file(st.Current) + "\n" +
		" Next main startup saved-configuration file: " + file(st.Next) + "\n" +
		" Next backup startup saved-configuration file: NULL\n"
}

var runDisplayLocalUser = shows((*invocation).running,
	func(_ *invocation, cfg config.Config) string { return LocalUserText(cfg.LocalUsers) })

// LocalUserText is `display local-user`: every user is a device management
// user in group system, active, working in flash:.
func LocalUserText(users []config.LocalUser) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Total %d local users matched.\n\n", len(users))
	// Values start at column 27 whatever the indent.
	attr := func(indent, name, value string) {
		b.WriteString(strings.TrimRight(fmt.Sprintf("%s%-*s%s", indent, 27-len(indent), name+":", value), " ") + "\n")
	}
	for _, u := range users {
		service := ""
		if u.ServiceSSH {
			service = "SSH"
		}
		fmt.Fprintf(&b, "Device management user %s:\n", u.Name)
		attr(" ", "State", "Active")
		attr(" ", "Service type", service)
		attr(" ", "User group", "system")
		attr(" ", "Bind attributes", "")
		attr(" ", "Authorization attributes", "")
		attr("  ", "Work directory", "flash:")
		attr("  ", "User role list", string(u.EffectiveRole()))
	}
	return b.String()
}

var runDisplaySSHServerSession = shows(readUsers, func(_ *invocation, u []device.VTYSession) string { return SSHSessionText(u) })

// SSHSessionText is `display ssh server session`: one row per SSH session
// (shells and exec alike are Stelnet); SessID is the VTY line's number.
func SSHSessionText(users []device.VTYSession) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s%-7s%-6s%-11s%-15s%-9s%-9s%s\n", "UserPid", "SessID", "Ver", "Encrypt", "State", "Retries", "Serv", "Username")
	for _, u := range users {
		if u.Type != "SSH" {
			continue
		}
		var vty int
		fmt.Sscanf(u.Line, "VTY %d", &vty)
		fmt.Fprintf(&b, " %-9d %-5d %-5s %-10s %-14s %-8d %-8s %s\n",
			u.Pid, vty, "2.0", cipherKeyword(u.Cipher), "Established", u.AuthAttempts, "Stelnet", u.User)
	}
	return b.String()
}

// cipherKeyword is the `ssh2 algorithm cipher` keyword of an SSH cipher
// name (aes128-gcm for aes128-gcm@openssh.com), as Comware shows it.
func cipherKeyword(name string) string {
	for _, a := range config.SSH2Cipher.Algorithms() {
		for _, n := range a.Names {
			if n == name {
				return a.Keyword
			}
		}
	}
	return name
}

// dirCommand is `dir [ flash: ]`.
func dirCommand() *node {
	return kw("dir", "Display information about files and directories",
		kw("flash:", "Directory of flash:").does(runDir)).does(runDir)
}

var runDir = shows(func(e *invocation) (device.FlashListing, error) { return e.s.dev.Dir(e.ctx) },
	func(e *invocation, l device.FlashListing) string { return DirText(l, e.s.loc) })

// DirText is `dir`: index, attributes, size, time and name of each file,
// then the file system's size and free space in KB.
func DirText(l device.FlashListing, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("Directory of flash:\n")
	for i, f := range l.Files {
		attr, size := "-rw-", fmt.Sprint(f.Size)
		if f.Dir {
			attr, size = "drw-", "-"
		}
		fmt.Fprintf(&b, "%4d %s %12s %s   %s\n", i, attr, size, f.Time.In(loc).Format("Jan 02 2006 15:04:05"), f.Name)
	}
	fmt.Fprintf(&b, "\n%d KB total (%d KB free)\n", l.Total/1024, l.Free/1024)
	return b.String()
}

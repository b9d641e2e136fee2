package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/version"
)

// The device's identity, in Comware 7's shapes: `display version`,
// `display device`, `display device manuinfo`, and the ` version` line that
// opens every configuration file.

// versionLine is Comware's `Version 7.1.064, Release NNNN` for this build
// (internal/version).
func versionLine() string {
	return "Version " + version.ComwareVersion + ", Release " + version.Release()
}

// versionSection opens the configuration, as on Comware. Replay skips it:
// a file written by another build still loads.
func versionSection() []string {
	return []string{" version " + version.ComwareVersion + ", Release " + version.Release()}
}

// isVersionLine reports whether a configuration file line is the version
// line (any release), which configures nothing.
func isVersionLine(cmd string) bool {
	first, _, _ := strings.Cut(cmd, " ")
	return strings.EqualFold(first, "version")
}

func displayDeviceCommands(leaf func(*node, handler) *node) []*node {
	return []*node{
		leaf(kw("device", "Device information",
			leaf(kw("manuinfo", "Manufacture information"), runDisplayManuinfo)), runDisplayDevice),
		leaf(kw("version", "System hardware and software version information"), runDisplayVersion),
	}
}

var runDisplayVersion = shows(readVersion, func(e *invocation, v device.VersionInfo) string { return VersionText(v, e.s.now()) })

// VersionText is `display version`: the lines the ntc-templates
// hp_comware_display_version template reads (version and release, model
// and uptime, last reboot reason), and nothing it does not know.
func VersionText(v device.VersionInfo, now time.Time) string {
	reason := v.LastReboot
	if reason == "" {
		reason = device.RebootCold
	}
	return fmt.Sprintf("Comware Software, %s\n", versionLine()) +
		"Copyright (c) the netdevd authors. All rights reserved.\n" +
		fmt.Sprintf("%s uptime is %s\n", v.Model, uptime(now.Sub(v.BootTime))) +
		fmt.Sprintf("Last reboot reason : %s\n", reason)
}

// uptime renders d as `0 weeks, 0 days, 1 hour, 2 minutes`.
func uptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	m := int(d / time.Minute)
	unit := func(n int, name string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, name)
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	return strings.Join([]string{
		unit(m/(7*24*60), "week"), unit(m/(24*60)%7, "day"), unit(m/60%24, "hour"), unit(m%60, "minute"),
	}, ", ")
}

var runDisplayDevice = shows(readVersion, func(_ *invocation, v device.VersionInfo) string { return DeviceText(v) })

// DeviceText is `display device` of a one-slot device: slot 1, the master.
func DeviceText(v device.VersionInfo) string {
	row := func(slot, typ, state, subslot, soft, patch string) string {
		return strings.TrimRight(fmt.Sprintf("%-5s%-18s%-9s%-9s%-21s%s", slot, typ, state, subslot, soft, patch), " ") + "\n"
	}
	return row("Slot", "Type", "State", "Subslot", "Soft Ver", "Patch Ver") +
		row("1", v.Model, "Master", "0", v.Model+"-"+version.Release(), "None")
}

var runDisplayManuinfo = shows(readVersion, func(e *invocation, v device.VersionInfo) string { return ManuinfoText(v, e.s.loc) })

// vendorName is the VENDOR_NAME of `display device manuinfo`.
const vendorName = "NETDEVD"

// ManuinfoText is `display device manuinfo`: slot 1's serial number, base
// MAC address and first-boot date.
func ManuinfoText(v device.VersionInfo, loc *time.Location) string {
	field := func(name, value string) string { return fmt.Sprintf("%-21s: %s\n", name, value) }
	return " Slot 1 CPU 0:\n" +
		field("DEVICE_NAME", v.Model) +
		field("DEVICE_SERIAL_NUMBER", v.Serial) +
		field("MAC_ADDRESS", manuinfoMAC(v.MAC)) +
		field("MANUFACTURING_DATE", v.Manufactured.In(loc).Format("2006-01-02")) +
		field("VENDOR_NAME", vendorName)
}

// manuinfoMAC writes a MAC address as `display device manuinfo` does,
// upper case: 02AB-CDEF-0123; NONE when there is none.
func manuinfoMAC(mac string) string {
	grouped, ok := groupMAC(mac)
	if !ok {
		return "NONE"
	}
	return strings.ToUpper(grouped)
}

// groupMAC writes a MAC address (any of the usual separators) in
// Comware's groups of four, lower case: 02ab-cdef-0123.
func groupMAC(mac string) (string, bool) {
	hex := strings.ToLower(strings.NewReplacer(":", "", "-", "", ".", "").Replace(mac))
	if len(hex) != 12 {
		return "", false
	}
	return hex[0:4] + "-" + hex[4:8] + "-" + hex[8:12], true
}

package cli

import (
	"slices"
	"sync"
)

// viewGrammar is the command tree of one view and its `?` header.
type viewGrammar struct {
	root   *node
	header string
}

// The trees are immutable after construction and shared by all sessions;
// they hold no device state.
var (
	grammarOnce sync.Once
	grammars    map[viewKind]viewGrammar
)

func grammarOf(k viewKind) viewGrammar {
	grammarOnce.Do(func() { grammars = buildGrammars() })
	return grammars[k]
}

func buildGrammars() map[viewKind]viewGrammar {
	return map[viewKind]viewGrammar{
		viewUser:          {root: withCommon(userCommands(), true), header: "User view commands:"},
		viewSystem:        {root: withCommon(systemCommands(), false), header: "System view commands:"},
		viewVlanInterface: {root: withCommon(vlanInterfaceCommands(), false), header: "Vlan-interface view commands:"},
		viewLocalUser:     {root: withCommon(localUserCommands(), false), header: "Local user view commands:"},
		viewLine:          {root: withCommon(lineCommands(), false), header: "Line view commands:"},
		viewACL:           {root: withCommon(aclViewCommands(), false), header: "IPv4 basic ACL view commands:"},
		viewLineClass:     {root: withCommon(fixedRoleCommands(), false), header: "Line class view commands:"},
		viewLineCon:       {root: withCommon(fixedRoleCommands(), false), header: "Console line view commands:"},
	}
}

// withCommon adds the commands every view has (display, save, quit,
// return) and the system-defined aliases, to a view's own commands.
func withCommon(own []*node, userView bool) *node {
	root := &node{}
	quit := kw("quit", "Exit from current command view").does(runQuit).forAll()
	ret := kw("return", "Exit to User View").does(runReturn).forAll()
	// User view has no `return` of its own; it is accepted there silently
	// because the shells map Ctrl+Z to it.
	ret.hidden = userView
	root.next = append(root.next, displayCommand(), saveCommand(), quit, ret, pingCommand(), tracertCommand()) // cmd_ping.go
	root.next = append(root.next, own...)
	addAliases(root)
	for _, c := range own {
		if c.keyword == "undo" {
			addAliases(c) // `undo logging …`: an alias may be an undo command's second word
		}
	}
	return root
}

// systemAliases are Comware's system-defined command aliases, in `display
// alias` order: each stands for the keyword of a command wherever that
// command exists (`erase` would stand for `delete`, which this device has
// not, so it is not listed).
var systemAliases = []struct{ alias, command string }{
	{"access-list", "acl"},
	{"end", "return"},
	{"exit", "quit"},
	{"hostname", "sysname"},
	{"logging", "info-center"},
	{"no", "undo"},
	{"show", "display"},
	{"write", "save"},
}

// addAliases adds to n a hidden alias for each of its children that a
// system-defined alias stands for.
func addAliases(n *node) {
	for _, a := range systemAliases {
		for _, c := range slices.Clone(n.next) {
			if c.keyword == a.command && c.target == nil {
				n.next = append(n.next, alias(a.alias, c))
			}
		}
	}
}

// displayCommand is `display …`, the same in every view.
func displayCommand() *node {
	leaf := func(n *node, h handler) *node {
		n.run, n.operator, n.filter = h, true, true
		return n
	}
	display := kw("display", "Display current system information",
		displayACL(leaf), // cmd_acl.go
		leaf(kw("alias", "Display command aliases"), runDisplayAlias),
		// cmd_display_network.go:
		displayARPCommand(leaf), displayInterfaceCommand(leaf), displayIPCommand(leaf),
		leaf(kw("clock", "System clock information"), runDisplayClock),
		kw("archive", "Archive information",
			leaf(kw("configuration", "Configuration archive information"), runDisplayArchive)),
		kw("cloud-management", "Cloud management configuration",
			leaf(kw("state", "Display cloud connection state"), runDisplayCloudState)),
		leaf(kw("current-configuration", "Current configuration"), runDisplayCurrent),
		leaf(kw("debugging", "Enabled debugging functions"), runDisplayDebugging),
		kw("dhcp", "DHCP module",
			leaf(kw("client", "DHCP client information",
				leaf(&node{keyword: "verbose", name: "verbose", help: "Detailed information"}, runDisplayDHCP)),
				runDisplayDHCP)),
		kw("dns", "Domain Name System (DNS) module",
			leaf(kw("host", "Host name to IP address mappings"), runDisplayDNSHost)),
		leaf(kw("history-command", "Display history command information"), runDisplayHistory),
		leaf(kw("logbuffer", "Display log buffer information"), runDisplayLogbuffer),
		leaf(kw("saved-configuration", "Saved configuration in the startup file"), runDisplaySaved),
		displaySSHServer(leaf), displaySSH2(leaf), // cmd_ssh2.go
		leaf(kw("this", "Display the configuration of the current view"), runDisplayThis),
		leaf(kw("users", "User terminal interface information"), runDisplayUsers),
	).forAll()
	display.next = append(display.next, systemDisplays(leaf)...) // cmd_device.go
	return display
}

// saveCommand is `save [force]` and `save FILE [force]`.
func saveCommand() *node {
	force := func() *node {
		return (&node{keyword: "force", name: "force", help: "Save without confirmation"}).does(runSave)
	}
	file := val("file", text(1, 255, nil), "Name of the file the configuration is saved to (*.cfg)", force()).does(runSave)
	return kw("save", "Save current configuration", force(), file).does(runSave)
}

func userCommands() []*node {
	screenLength := func(h handler) *node {
		return kw("screen-length", "Specify the lines displayed on one screen",
			kw("disable", "Disable multiple-screen output").does(h).forAll())
	}
	return []*node{
		archiveUserCommand(), backupCommand(), restoreCommand(),
		dirCommand(), rebootCommand(), // cmd_device.go
		kw("reset", "Reset operation",
			kw("cloud-management", "Cloud management configuration",
				kw("tunnel", "Re-establish the cloud connection").does(runResetCloudTunnel)),
			resetLogbuffer()),
		debuggingCommand(runDebuggingCloud, false),
		screenLength(runScreenLengthDisable),
		kw("system-view", "Enter the System View").does(runSystemView),
		terminalCommand(runTerminalMonitor, runTerminalDebugging),
		kw("undo", "Cancel current setting", screenLength(runUndoScreenLength),
			terminalCommand(runUndoTerminalMonitor, runUndoTerminalDebugging), debuggingCommand(runUndoDebuggingCloud, true)),
	}
}

package cli

import (
	"fmt"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// `ssh2 algorithm { key-exchange | public-key | cipher | mac } ALG…` and
// their undo forms (system view), `display ssh server status` and
// `display ssh2 algorithm`. The keywords and defaults are in
// internal/config/ssh2.go; the SSH server reads the lists at each new
// connection (sshd/algorithms.go).

// ssh2ListHelp is the help of each list's keyword.
var ssh2ListHelp = map[config.SSH2Kind]string{
	config.SSH2KeyExchange: "Specify key exchange algorithms",
	config.SSH2PublicKey:   "Specify public key algorithms",
	config.SSH2Cipher:      "Specify encryption algorithms",
	config.SSH2MAC:         "Specify MAC algorithms",
}

// ssh2Command is `ssh2 algorithm KIND ALG…` (Comware's `{ … } *` lists:
// each algorithm once, in any order; the order typed is the preference).
func ssh2Command() *node {
	alg := kw("algorithm", "Specify algorithms for SSH2")
	for _, k := range config.SSH2Kinds {
		list := kw(k.Keyword(), ssh2ListHelp[k])
		list.many = true
		for _, a := range k.Algorithms() {
			member := &node{keyword: a.Keyword, name: "alg", help: k.Label() + " algorithm " + a.Names[0]}
			list.next = append(list.next, member.does(runSSH2(k)))
		}
		alg.next = append(alg.next, list)
	}
	return kw("ssh2", "Specify SSH2 configuration information", alg)
}

// undoSSH2Command is `undo ssh2 algorithm KIND`: back to the default list.
func undoSSH2Command() *node {
	alg := kw("algorithm", "Specify algorithms for SSH2")
	for _, k := range config.SSH2Kinds {
		alg.next = append(alg.next, kw(k.Keyword(), ssh2ListHelp[k]).does(runUndoSSH2(k)))
	}
	return kw("ssh2", "Specify SSH2 configuration information", alg)
}

func runSSH2(k config.SSH2Kind) handler {
	return setter(func(e *invocation, c *config.Config) { c.SSH2.SetList(k, e.words("alg")) })
}

func runUndoSSH2(k config.SSH2Kind) handler {
	return setter(func(e *invocation, c *config.Config) { c.SSH2.SetList(k, nil) })
}

// ssh2RenderOrder is the order of the lines in the configuration (ASCII,
// like the help lists).
var ssh2RenderOrder = []config.SSH2Kind{config.SSH2Cipher, config.SSH2KeyExchange, config.SSH2MAC, config.SSH2PublicKey}

// ssh2Lines are the configured (non-default) lists, for the SSH section.
func ssh2Lines(cfg config.Config) []string {
	var lines []string
	for _, k := range ssh2RenderOrder {
		if l := cfg.SSH2.List(k); l != nil {
			lines = append(lines, " ssh2 algorithm "+k.Keyword()+" "+strings.Join(l, " "))
		}
	}
	return lines
}

// ssh2AlgorithmLines are the lists in force, as `display ssh2 algorithm`
// shows them: `Key exchange algorithms: …`.
func ssh2AlgorithmLines(cfg config.Config, indent string) string {
	var b strings.Builder
	for _, k := range config.SSH2Kinds {
		fmt.Fprintf(&b, "%s%s algorithms: %s\n", indent, k.Label(), strings.Join(cfg.SSH2.Effective(k), " "))
	}
	return b.String()
}

func displaySSHServer(leaf func(*node, handler) *node) *node {
	return kw("ssh", "Specify SSH (secure shell) configuration information",
		kw("server", "Specify the server attribute",
			leaf(kw("session", "Display SSH server sessions"), runDisplaySSHServerSession), // cmd_device.go
			leaf(kw("status", "Display SSH server status"), runDisplaySSHServerStatus)))
}

func displaySSH2(leaf func(*node, handler) *node) *node {
	return kw("ssh2", "Specify SSH2 configuration information",
		leaf(kw("algorithm", "Display algorithms used by SSH2 in the algorithm negotiation stage"), runDisplaySSH2Algorithm))
}

// runDisplaySSHServerStatus follows Comware 7's `display ssh server
// status`, then the algorithm lists in force. The device has no SFTP, SCP
// or NETCONF server and never regenerates its host key.
func runDisplaySSHServerStatus(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	enabled := "Disable"
	if cfg.SSH.Enabled {
		enabled = "Enable"
	}
	e.printf(" Stelnet server: %s\n", enabled)
	e.printf(" SSH version : 2.0\n")
	e.printf(" SSH authentication-timeout : %d second(s)\n", cfg.SSH.AuthTimeout)
	e.printf(" SSH server key generating interval : 0 hour(s)\n")
	e.printf(" SSH authentication retries : %d time(s)\n", cfg.SSH.AuthRetries)
	e.printf(" SFTP server: Disable\n")
	e.printf(" SFTP server Idle-Timeout: 10 minute(s)\n")
	e.printf(" NETCONF server: Disable\n")
	e.printf(" SCP server: Disable\n")
	e.out.WriteString(ssh2AlgorithmLines(cfg, " "))
	return nil
}

func runDisplaySSH2Algorithm(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	e.out.WriteString(ssh2AlgorithmLines(cfg, ""))
	return nil
}

package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// display commands: they only read, so every role may run them.

// runDisplayAlias lists the system-defined aliases (tree.go).
func runDisplayAlias(e *invocation) error {
	e.printf("%-9s%-22s%s\n", "Index", "Alias", "Command key")
	for i, a := range systemAliases {
		e.printf("%-9d%-22s%s\n", i+1, a.alias, a.command)
	}
	return nil
}

func runDisplayClock(e *invocation) error {
	e.println(e.s.now().In(e.s.loc).Format("15:04:05 MST Mon 01/02/2006"))
	return nil
}

func runDisplayCloudState(e *invocation) error {
	st, err := e.s.dev.CloudStatus(e.ctx)
	if err != nil {
		return err
	}
	e.out.WriteString(CloudManagementState(st, e.s.loc))
	return nil
}

func runDisplayCurrent(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	e.out.WriteString(Render(cfg))
	return nil
}

// runDisplayThis shows the current view's block; in user and system view
// the whole configuration, as Comware does in system view.
func runDisplayThis(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	switch e.s.view.kind {
	case viewVlanInterface:
		e.out.WriteString(renderBlock(vlanInterfaceBlock(cfg, true)))
	case viewLine:
		e.out.WriteString(renderBlock(lineBlock(cfg, e.s.view.lines)))
	case viewLineClass:
		e.out.WriteString(renderBlock(lineClassBlock(e.s.view.class)))
	case viewLineCon:
		e.out.WriteString(renderBlock(lineConBlock()))
	case viewACL:
		e.out.WriteString(renderBlock(aclViewBlock(cfg, e.s.view.acl)))
	case viewLocalUser:
		u, ok := cfg.User(e.s.view.user)
		if !ok {
			u = &config.LocalUser{Name: e.s.view.user}
		}
		e.out.WriteString(renderBlock(localUserBlock(*u)))
	default:
		e.out.WriteString(Render(cfg))
	}
	return nil
}

func runDisplaySaved(e *invocation) error {
	text, err := e.s.dev.SavedConfiguration(e.ctx)
	if err != nil {
		return err
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	e.out.WriteString(text)
	return nil
}

func runDisplayDHCP(e *invocation) error {
	st, err := e.s.dev.DHCPStatus(e.ctx)
	if err != nil {
		return err
	}
	e.out.WriteString(DHCPClientInformation(st, e.has("verbose")))
	return nil
}

// runDisplayDNSHost follows Comware V7's table.
func runDisplayDNSHost(e *invocation) error {
	hosts, err := e.s.dev.DNSHosts(e.ctx)
	if err != nil {
		return err
	}
	e.println("Type:")
	e.println(" D: Dynamic    S: Static")
	e.println()
	e.printf("Total number: %d\n", len(hosts))
	e.println()
	e.println("No.  Host name                 Type  TTL        Query type  Reply data")
	for i, h := range hosts {
		ttl := "-"
		if h.Type != "S" {
			ttl = fmt.Sprint(int(h.TTL.Seconds()))
		}
		e.printf("%-5s%-26s%-6s%-11s%-12s%s\n", fmt.Sprintf(" %d", i+1), h.Name, h.Type, ttl, "A", h.Addr)
	}
	return nil
}

func runDisplayHistory(e *invocation) error {
	for _, line := range e.s.history {
		e.println("  " + line)
	}
	return nil
}

// runDisplayUsers is Comware 7's layout: the table, then for each line
// its user name and location, then the legend.
func runDisplayUsers(e *invocation) error {
	users, err := e.s.dev.Users(e.ctx)
	if err != nil {
		return err
	}
	e.out.WriteString(UsersText(users, e.s.loc))
	return nil
}

// UsersText is `display users`. A line without a user name (the console)
// or without a remote address shows no such detail line.
func UsersText(users []device.VTYSession, loc *time.Location) string {
	var b strings.Builder
	row := func(mark, idx, line, idle, since, pid, typ string) {
		l := fmt.Sprintf("%-2s%-5s%-9s%-11s%-18s%-8s%s", mark, idx, line, idle, since, pid, typ)
		b.WriteString(strings.TrimRight(l, " ") + "\n")
	}
	row("", "Idx", "Line", "Idle", "Time", "Pid", "Type")
	for _, u := range users {
		mark := ""
		if u.Current {
			mark = "+"
		}
		row(mark, fmt.Sprint(u.Idx), u.Line, clockDuration(u.Idle), u.Since.In(loc).Format("Jan 02 15:04:05"),
			fmt.Sprint(u.Pid), u.Type)
	}
	b.WriteString("\nFollowing are more details.\n")
	for _, u := range users {
		fmt.Fprintf(&b, "%-8s:\n", u.Line)
		if u.User != "" {
			b.WriteString("        User name: " + u.User + "\n")
		}
		if u.Source != "" {
			b.WriteString("        Location: " + u.Source + "\n")
		}
	}
	b.WriteString(" +    : Current operation user.\n")
	b.WriteString(" F    : Current operation user works in async mode.\n")
	return b.String()
}

// clockDuration renders d as hh:mm:ss.
func clockDuration(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
}

package cli

import (
	"fmt"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// The line classes and the console line, as every Comware configuration
// shows them:
//
//	line class { console | vty }    system view, enters [S-line-class-console] / [S-line-class-vty]
//	line con 0                      system view, enters [S-line-console0]
//	user-role ROLE / undo user-role in those views
//
// On this device they are fixed: the console is root on the box and always
// network-admin; a VTY line without a role of its own (`line vty 0 63`,
// `user-role`) is network-operator. Their views accept exactly those
// settings, so that a configuration the device wrote (which lists them, as
// Comware's does) loads back; another role is not a keyword there.

// lineClassRole is each class's fixed user role.
var lineClassRole = map[string]config.Role{
	"console": config.RoleAdmin,
	"vty":     config.RoleOperator,
}

var conNumberValue = intRange(0, 0)

// lineClassCommand is `line class { console | vty }`.
func lineClassCommand() *node {
	class := func(word, help string) *node {
		return (&node{keyword: word, name: "class", help: help}).does(runLineClass)
	}
	return kw("class", "Specify a user line class",
		class("console", "Console line class"),
		class("vty", "Virtual type terminal (VTY) line class"))
}

// lineConCommand is `line con 0`.
func lineConCommand() *node {
	return kw("con", "Console line",
		val("first", conNumberValue, "Number of the console line").does(runLineCon))
}

func runLineClass(e *invocation) error {
	e.s.view = view{kind: viewLineClass, class: e.arg("class")}
	return nil
}

func runLineCon(e *invocation) error {
	e.s.view = view{kind: viewLineCon}
	return nil
}

// fixedRoleCommands are the commands of a view whose user role is fixed:
// `user-role ROLE` and `undo user-role [ ROLE ]`. The fixed role is
// accepted and changes nothing (it is already in force); the other role is
// Wrong parameter. The grammar of a view is built once and the two classes
// share theirs, so both roles are keywords and the handler checks.
func fixedRoleCommands() []*node {
	check := func(e *invocation) error {
		if e.has("role") && config.Role(e.arg("role")) != e.s.view.fixedRole() {
			return e.wrongParameter("role")
		}
		return nil
	}
	roles := func() []*node {
		return []*node{
			(&node{keyword: string(config.RoleAdmin), name: "role", help: "Network administrator"}).does(check),
			(&node{keyword: string(config.RoleOperator), name: "role", help: "Network operator"}).does(check),
		}
	}
	return []*node{
		kw("user-role", "Specify a user role", roles()...),
		kw("undo", "Cancel current setting", kw("user-role", "Specify a user role", roles()...).does(check)),
	}
}

// fixedRole is the user role of a line class or console line view.
func (v view) fixedRole() config.Role {
	if v.kind == viewLineCon {
		return config.RoleAdmin
	}
	return lineClassRole[v.class]
}

// lineClassPrompt and lineConPrompt are Comware's prompts of those views.
func lineClassPrompt(sysname, class string) string {
	return "[" + sysname + "-line-class-" + class + "]"
}

func lineConPrompt(sysname string) string { return "[" + sysname + "-line-console0]" }

// lineClassBlock is one class's section.
func lineClassBlock(class string) []string {
	return []string{"line class " + class, " user-role " + string(lineClassRole[class])}
}

func lineConBlock() []string {
	return []string{"line con 0", " user-role " + string(config.RoleAdmin)}
}

// lineSections are the line sections of the configuration, in Comware's
// order: the classes, the console line, the VTY lines.
func lineSections(cfg config.Config) [][]string {
	return [][]string{lineClassBlock("console"), lineClassBlock("vty"), lineConBlock(), lineBlock(cfg, "0-63")}
}

// vtyHeader is `line vty FIRST [LAST]` for a range as the prompt shows it
// ("0-63", "3").
func vtyHeader(lines string) string {
	return "line vty " + strings.Replace(lines, "-", " ", 1)
}

// lineBlock is the VTY lines' section, with the defaults Comware shows:
// the authentication mode, and the role (network-operator when the lines
// have none of their own).
func lineBlock(cfg config.Config, lines string) []string {
	v := cfg.VTY
	mode := v.AuthMode
	if mode == "" {
		mode = "scheme"
	}
	role := v.UserRole
	if role == "" {
		role = lineClassRole["vty"]
	}
	out := []string{vtyHeader(lines), " authentication-mode " + mode, " user-role " + string(role)}
	if v.IdleMinutes != config.DefaultIdleMinutes || v.IdleSeconds != config.DefaultIdleSeconds {
		out = append(out, fmt.Sprintf(" idle-timeout %d %d", v.IdleMinutes, v.IdleSeconds))
	}
	if v.ScreenLength != config.DefaultScreenLength {
		out = append(out, fmt.Sprintf(" screen-length %d", v.ScreenLength))
	}
	return out
}

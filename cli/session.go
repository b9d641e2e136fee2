package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// viewKind is a command view: the set of commands a prompt accepts.
type viewKind int

const (
	viewUser viewKind = iota
	viewSystem
	viewVlanInterface
	viewLocalUser
	viewLine
	viewACL       // `acl basic N` (cmd_acl.go)
	viewLineClass // `line class { console | vty }` (cmd_lines.go)
	viewLineCon   // `line con 0` (cmd_lines.go)
)

// view is where a session is: the view and, for sub-views, which object.
type view struct {
	kind  viewKind
	user  string // local-user view: the user's name
	lines string // line view: the range as typed, "0-63"
	acl   int    // ACL view: the ACL's number
	class string // line class view: "console" or "vty"
}

// historySize is Comware's default history buffer size.
const historySize = 10

// Session is one user's command line: its view, history and terminal
// settings. It holds no device state; everything goes through Device.
// A Session is used by one goroutine at a time.
type Session struct {
	dev     device.Device
	id      device.Identity
	view    view
	ended   bool
	paging  bool
	log     termLog // terminal monitor / terminal debugging (cmd_infocenter.go)
	history []string
	sysname string // last sysname read, for a prompt when the device fails

	now func() time.Time // injectable for tests
	loc *time.Location
}

// NewSession starts a session in user view.
func NewSession(dev device.Device, id device.Identity) *Session {
	s := &Session{dev: dev, id: id, paging: true, sysname: config.DefaultSysname, now: time.Now, loc: time.Local}
	s.log.monitor.Store(isConsole(id))
	return s
}

// Ended reports whether `quit` in user view ended the session.
func (s *Session) Ended() bool { return s.ended }

// Monitor reports whether `terminal monitor` is on for this session.
// Comware's default: on for the console, off for VTY lines.
func (s *Session) Monitor() bool { return s.log.monitor.Load() }

// History returns the commands typed so far (the last ten), oldest first.
func (s *Session) History() []string { return append([]string(nil), s.history...) }

// Prompt is the prompt of the current view, e.g. `<Sysname>` or
// `[Sysname-Vlan-interface1]`, with no trailing space.
func (s *Session) Prompt(ctx context.Context) string {
	if cfg, err := s.dev.Running(ctx); err == nil {
		s.sysname = cfg.Sysname
		s.noteSysname(cfg.Sysname)
	}
	switch s.view.kind {
	case viewSystem:
		return "[" + s.sysname + "]"
	case viewVlanInterface:
		return "[" + s.sysname + "-Vlan-interface1]"
	case viewLocalUser:
		return "[" + s.sysname + "-luser-manage-" + s.view.user + "]"
	case viewLine:
		return "[" + s.sysname + "-line-vty" + s.view.lines + "]"
	case viewACL:
		return aclPrompt(s.sysname, s.view.acl)
	case viewLineClass:
		return lineClassPrompt(s.sysname, s.view.class)
	case viewLineCon:
		return lineConPrompt(s.sysname)
	}
	return "<" + s.sysname + ">"
}

// Execute runs one typed line and writes its output to t, paged when t has
// rows and paging is on. It returns false when it printed an error line.
func (s *Session) Execute(ctx context.Context, line string, t Terminal) bool {
	prompt := s.Prompt(ctx)
	err := s.execute(ctx, line, t)
	if err != nil {
		io.WriteString(t, err.render(len(prompt)))
		return false
	}
	return true
}

// execute parses and runs line; output goes to t (or to the file a
// redirection names), the error comes back. Comment lines (`#…`, the
// ` version …` line of a configuration) do nothing, so that a pasted
// configuration loads without error lines.
func (s *Session) execute(ctx context.Context, line string, t Terminal) *cliError {
	if isComment(line) {
		return nil
	}
	p, err := s.parseHere(line)
	if err != nil || p == nil {
		return err
	}
	s.remember(p.history)
	if (!p.cmd.operator || p.output.redirects()) && !s.isAdmin() {
		return &cliError{kind: errPermission}
	}
	e := &invocation{ctx: ctx, s: s, args: p.args, term: t}
	runErr := p.cmd.run(e)
	out := p.output.apply(e.out.String())
	if p.output.redirects() {
		r := p.output.redirect
		if err := s.dev.WriteFile(ctx, r.file, []byte(out), r.appendTo); err != nil && runErr == nil {
			runErr = err
		}
	} else {
		s.page(t, out, s.pageRows(ctx, t))
	}
	if runErr != nil {
		return asCLIError(runErr)
	}
	return nil
}

// parseHere resolves line in the current view. In a sub-view, a line the
// view does not know but system view does runs in system view, and the
// session stays there, as Comware does with a command of a parent view:
// that is how a pasted configuration's global lines after a view block
// (` ssh server enable` after `interface Vlan-interface1`) reach their view.
// Otherwise the error is the current view's.
func (s *Session) parseHere(line string) (*parsed, *cliError) {
	p, err := parse(grammarOf(s.view.kind).root, line)
	if err == nil || err.kind != errUnrecognized || s.view.kind == viewUser || s.view.kind == viewSystem {
		return p, err
	}
	up, upErr := parse(grammarOf(viewSystem).root, line)
	if upErr != nil {
		return nil, err
	}
	s.view = view{kind: viewSystem}
	return up, nil
}

// isComment reports whether a typed line is a comment: `#…`, or the
// ` version …` line that opens a configuration (cmd_version.go).
func isComment(line string) bool {
	cmd := strings.TrimSpace(line)
	return strings.HasPrefix(cmd, "#") || isVersionLine(cmd)
}

// isAdmin: only network-admin may change anything. An unset role counts as
// network-operator, as it does for local users.
func (s *Session) isAdmin() bool { return s.id.Role == config.RoleAdmin }

// remember keeps a line in the history, skipping an immediate repeat.
func (s *Session) remember(line string) {
	if n := len(s.history); n > 0 && s.history[n-1] == line {
		return
	}
	s.history = append(s.history, line)
	if len(s.history) > historySize {
		s.history = s.history[len(s.history)-historySize:]
	}
}

// invocation is one run of a command: its arguments, its output buffer and
// the terminal for dialogues.
type invocation struct {
	ctx  context.Context
	s    *Session
	args map[string]token
	out  strings.Builder
	term Terminal
}

// arg is the word stored under name ("" when absent).
func (e *invocation) arg(name string) string { return e.args[name].text }

// words are the words stored under name: the members of a `many` list, in
// the order typed.
func (e *invocation) words(name string) []string { return strings.Fields(e.arg(name)) }

// has reports whether the optional word name was typed.
func (e *invocation) has(name string) bool {
	_, ok := e.args[name]
	return ok
}

// wrongParameter points the caret at the word stored under name.
func (e *invocation) wrongParameter(name string) error {
	return syntaxError(errWrongParameter, e.args[name].pos)
}

func (e *invocation) println(a ...any) { fmt.Fprintln(&e.out, a...) }

func (e *invocation) printf(format string, a ...any) { fmt.Fprintf(&e.out, format, a...) }

// ask shows what was printed so far, then asks the terminal for a line.
func (e *invocation) ask(prompt string) (string, error) {
	e.flush()
	answer, err := e.term.ReadLine(prompt)
	return strings.TrimSpace(answer), err
}

// flush writes buffered output straight to the terminal (dialogues).
func (e *invocation) flush() {
	io.WriteString(e.term, e.out.String())
	e.out.Reset()
}

// update changes the running configuration. change must depend only on its
// argument: the device may run it again on a fresher configuration.
func (e *invocation) update(change func(*config.Config) error) error {
	return e.s.dev.Update(e.ctx, change)
}

// running reads the running configuration.
func (e *invocation) running() (config.Config, error) {
	return e.s.dev.Running(e.ctx)
}

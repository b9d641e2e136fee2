package cli

// Logs the Comware way: the log buffer's size and reset, terminal monitor
// and terminal debugging (per session), and the device's debugging switches.

import (
	"strconv"
	"sync/atomic"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// Monitor messages (Comware's exact text).
const (
	msgMonitorOn    = "The current terminal is enabled to display logs."
	msgMonitorOff   = "The current terminal is disabled to display logs."
	msgDebuggingOn  = "The current terminal is enabled to display debugging logs."
	msgDebuggingOff = "The current terminal is disabled to display debugging logs."
	msgAllDebugOff  = "All possible debugging has been turned off."
)

// termLog is a session's terminal settings for live logs. The shells read
// them from the goroutine that receives the log stream while the session
// runs commands in another, hence atomics.
type termLog struct {
	monitor   atomic.Bool
	debugging atomic.Bool
	sysname   atomic.Pointer[string]
}

// isConsole: Comware turns terminal monitor on by default for the console
// and off for VTY lines.
func isConsole(id device.Identity) bool { return len(id.Line) >= 3 && id.Line[:3] == "CON" }

// SetMonitor sets terminal monitor without a command (a front end's
// default, e.g. off for a console driven by a script).
func (s *Session) SetMonitor(on bool) { s.log.monitor.Store(on) }

// TerminalDebugging reports whether `terminal debugging` is on.
func (s *Session) TerminalDebugging() bool { return s.log.debugging.Load() }

// MonitorLine is what the session's terminal shows for a live log entry:
// the Comware line, and false when the terminal does not show it (terminal
// monitor off; debugging output without terminal debugging). Safe to call
// from another goroutine than the one running commands.
func (s *Session) MonitorLine(e logbuf.Entry) (string, bool) {
	if !s.log.monitor.Load() || (e.Severity >= logbuf.Debugging && !s.log.debugging.Load()) {
		return "", false
	}
	sysname := config.DefaultSysname
	if p := s.log.sysname.Load(); p != nil {
		sysname = *p
	}
	return logbuf.Format(e, sysname), true
}

// noteSysname keeps the sysname for MonitorLine.
func (s *Session) noteSysname(name string) { s.log.sysname.Store(&name) }

// Grammar.

var logBufferSizeValue = intRange(1, logbuf.MaxSize)

// terminalCommand is `terminal debugging|monitor` (and their undo forms).
func terminalCommand(monitor, debugging handler) *node {
	return kw("terminal", "Set the terminal line characteristics",
		kw("debugging", "Enable the display of debugging logs on the current terminal").does(debugging).forAll(),
		kw("monitor", "Enable the display of logs on the current terminal").does(monitor).forAll())
}

// resetLogbuffer is `reset logbuffer` (a child of user view's `reset`).
func resetLogbuffer() *node {
	return kw("logbuffer", "Clear the log buffer").does(runResetLogbuffer)
}

// debuggingCommand is `debugging cloud-management all|event|packet` and,
// for undo, also `undo debugging all`.
func debuggingCommand(h handler, undo bool) *node {
	kind := func(word, help string) *node {
		return (&node{keyword: word, name: "kind", help: help}).does(h)
	}
	n := kw("debugging", "Enable system debugging functions",
		kw("cloud-management", "Cloud management module",
			kind("all", "All cloud management debugging"),
			kind("event", "Cloud connection event debugging"),
			kind("packet", "Cloud protocol packet debugging")))
	if undo {
		n.next = append(n.next, kw("all", "All debugging functions").does(runUndoDebuggingAll))
	}
	return n
}

// infoCenterCommand is `info-center logbuffer size N` (system view).
func infoCenterCommand() *node {
	return kw("info-center", "Specify information center configuration",
		kw("logbuffer", "Specify the log buffer",
			kw("size", "Specify the maximum number of logs in the log buffer",
				val("size", logBufferSizeValue, "Maximum number of logs in the log buffer").does(runInfoCenterLogbufferSize))))
}

// undoInfoCenterCommand is `undo info-center logbuffer size`.
func undoInfoCenterCommand() *node {
	return kw("info-center", "Specify information center configuration",
		kw("logbuffer", "Specify the log buffer",
			kw("size", "Specify the maximum number of logs in the log buffer").does(runUndoInfoCenterLogbufferSize)))
}

// Handlers.

func runTerminalMonitor(e *invocation) error {
	e.s.log.monitor.Store(true)
	e.println(msgMonitorOn)
	return nil
}

func runUndoTerminalMonitor(e *invocation) error {
	e.s.log.monitor.Store(false)
	e.println(msgMonitorOff)
	return nil
}

func runTerminalDebugging(e *invocation) error {
	e.s.log.debugging.Store(true)
	e.println(msgDebuggingOn)
	return nil
}

func runUndoTerminalDebugging(e *invocation) error {
	e.s.log.debugging.Store(false)
	e.println(msgDebuggingOff)
	return nil
}

func runResetLogbuffer(e *invocation) error { return e.s.dev.ResetLogBuffer(e.ctx) }

func debugKind(kind string) device.DebugSwitches {
	switch kind {
	case "event":
		return device.DebugSwitches{CloudEvent: true}
	case "packet":
		return device.DebugSwitches{CloudPacket: true}
	}
	return device.AllDebugging()
}

func runDebuggingCloud(e *invocation) error {
	return e.s.dev.SetDebugging(e.ctx, debugKind(e.arg("kind")), true)
}

func runUndoDebuggingCloud(e *invocation) error {
	return e.s.dev.SetDebugging(e.ctx, debugKind(e.arg("kind")), false)
}

func runUndoDebuggingAll(e *invocation) error {
	if err := e.s.dev.SetDebugging(e.ctx, device.AllDebugging(), false); err != nil {
		return err
	}
	e.println(msgAllDebugOff)
	return nil
}

// runDisplayDebugging lists the switches that are on, one line each, as
// Comware does; nothing when all are off.
func runDisplayDebugging(e *invocation) error {
	d, err := e.s.dev.Debugging(e.ctx)
	if err != nil {
		return err
	}
	if d.CloudEvent {
		e.println("Cloud management event debugging is on")
	}
	if d.CloudPacket {
		e.println("Cloud management packet debugging is on")
	}
	return nil
}

func runInfoCenterLogbufferSize(e *invocation) error {
	n, _ := strconv.Atoi(e.arg("size"))
	return e.update(func(c *config.Config) error {
		c.InfoCenter.LogBufferSize = n
		return nil
	})
}

var runUndoInfoCenterLogbufferSize = setter(func(e *invocation, c *config.Config) {
	c.InfoCenter.LogBufferSize = config.DefaultLogBufferSize
})

// runDisplayLogbuffer: Comware's six-line header, then the entries, oldest
// first (newest last).
func runDisplayLogbuffer(e *invocation) error {
	snap, err := e.s.dev.LogBuffer(e.ctx)
	if err != nil {
		return err
	}
	cfg, err := e.running()
	if err != nil {
		return err
	}
	e.println("Log buffer: Enabled")
	e.printf("Max buffer size: %d\n", logbuf.MaxSize)
	e.printf("Actual buffer size: %d\n", snap.Size)
	e.printf("Dropped messages: %d\n", snap.Dropped)
	e.printf("Overwritten messages: %d\n", snap.Overwritten)
	e.printf("Current messages: %d\n", len(snap.Entries))
	for _, entry := range snap.Entries {
		e.println(logbuf.Format(entry, cfg.Sysname))
	}
	return nil
}

// infoCenterSection is ` info-center logbuffer size N` when not the default.
func infoCenterSection(cfg config.Config) []string {
	if n := cfg.InfoCenter.LogBufferSize; n != config.DefaultLogBufferSize {
		return []string{" info-center logbuffer size " + strconv.Itoa(n)}
	}
	return nil
}

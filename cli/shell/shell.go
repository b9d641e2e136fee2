// Package shell holds the two front ends that feed typed lines to the
// command grammar: the interactive readline shell for people at a terminal
// (RunInteractive) and the line-mode shell for scripts (RunLine: Netmiko,
// expect, pipes). Both are thin: views, prompts, help, completion and command
// output all come from an Engine (the grammar's session).
package shell

import (
	"context"
	"errors"

	"github.com/netdevd/netdevd/cli"
)

// Terminal is where a session's output goes and where its dialogues and
// pager read keys: cli.Terminal (io.Writer, ReadLine, ReadKey, Rows).
type Terminal = cli.Terminal

// Engine is one CLI session of the command grammar (*cli.Session).
type Engine interface {
	// Prompt is the current view's prompt: "<Sysname>", "[Sysname]",
	// "[Sysname-Vlan-interface1]"… with no trailing space.
	Prompt(ctx context.Context) string
	// Execute runs one typed line (exactly as typed) and writes its output,
	// errors included, to t. It reports whether the line succeeded.
	Execute(ctx context.Context, line string, t Terminal) bool
	// Help is the `?` help for line, the text typed before the `?` (the `?`
	// itself excluded). It ends with a newline.
	Help(ctx context.Context, line string) string
	// Complete returns the keywords that may complete the last, partly
	// typed word of line ("" when line ends with a space: every next word).
	Complete(line string) []string
	// Ended reports that the session is over (`quit` in user view).
	Ended() bool
}

// ErrInterrupted is what Terminal.ReadLine returns when the user aborts a
// dialogue with Ctrl+C (or Ctrl+Z). The command should stop without output.
var ErrInterrupted = errors.New("interrupted")

// Control characters with a meaning to the shells.
const (
	keyCtrlC = 0x03 // abandon the line (Comware: the line is discarded)
	keyCtrlD = 0x04 // end of input on an empty line
	keyCtrlU = 0x15 // erase the line
	keyCtrlW = 0x17 // erase the word before the cursor (line mode)
	keyCtrlZ = 0x1a // go to user view: runs `return`
	keyBS    = 0x08
	keyDEL   = 0x7f
	keyESC   = 0x1b
)

// defaultRows is the page height when the terminal does not tell (pipes,
// zero-sized PTYs). Comware pages at 24 lines by default.
const defaultRows = 24

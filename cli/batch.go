package cli

import (
	"context"
	"io"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// RunBatch runs lines as one session starting in user view, as `netdevd
// exec` and `ssh host "command"` do. A dialogue (save) takes its answers
// from the lines that follow. Output is what a terminal would show without
// prompts or echoed commands; a dialogue question is followed by its answer
// and a newline, as a terminal echoes them. ok is false when any line
// printed an error. A `quit` in user view ends the run. Once ctx ends (the
// cloud exec's time limit, an SSH client gone) no further line runs, and ok
// is false if any was left.
func RunBatch(ctx context.Context, dev device.Device, id device.Identity, lines []string) (output string, ok bool) {
	t := &batchTerminal{lines: lines}
	s := NewSession(dev, id)
	ok = true
	for t.next < len(t.lines) && !s.Ended() {
		if ctx.Err() != nil {
			return t.out.String(), false
		}
		line := t.lines[t.next]
		t.next++
		if !s.Execute(ctx, line, t) {
			ok = false
		}
	}
	return t.out.String(), ok
}

// batchTerminal collects output and answers questions from the lines not
// yet run. It never pages.
type batchTerminal struct {
	out   strings.Builder
	lines []string
	next  int
}

func (t *batchTerminal) Write(p []byte) (int, error) { return t.out.Write(p) }

func (t *batchTerminal) ReadLine(prompt string) (string, error) {
	t.out.WriteString(prompt)
	if t.next >= len(t.lines) {
		t.out.WriteString("\n")
		return "", io.EOF
	}
	answer := t.lines[t.next]
	t.next++
	t.out.WriteString(answer + "\n")
	return answer, nil
}

func (t *batchTerminal) ReadKey() (byte, error) { return 0, io.EOF }

func (t *batchTerminal) Rows() int { return 0 }

// LineError is a line of a configuration file that did not load.
type LineError struct {
	Line    int    // 1-based line number
	Text    string // the line as written
	Message string // the error, e.g. "% Unrecognized command found at '^' position."
}

// replayIdentity is who loads the startup file: the system itself.
var replayIdentity = device.Identity{User: "console", Role: config.RoleAdmin, Line: "CON 0"}

// Replay loads a configuration file through the grammar, as the device does
// at boot. Every line at column 0 runs in system view (a view line such as
// `interface Vlan-interface1` enters its view); an indented line runs in the
// current view and, when that view does not know it, in system view, as
// Comware does. `#`, `return`, the ` version …` line (cmd_version.go) and
// blank lines are skipped. A bad line is reported and the load goes on.
func Replay(ctx context.Context, dev device.Device, text string) []LineError {
	s := NewSession(dev, replayIdentity)
	s.view = view{kind: viewSystem}
	t := &batchTerminal{}
	var errs []LineError
	for i, raw := range strings.Split(text, "\n") {
		raw = strings.TrimRight(raw, "\r")
		cmd := strings.TrimSpace(raw)
		if cmd == "" || strings.HasPrefix(cmd, "#") || strings.EqualFold(cmd, "return") || isVersionLine(cmd) {
			continue
		}
		if err := s.replayLine(ctx, raw, cmd, t); err != nil {
			errs = append(errs, LineError{Line: i + 1, Text: raw, Message: err.message()})
		}
		t.out.Reset()
	}
	return errs
}

// replayLine runs one file line in the view its indentation says: a line
// at column 0 in system view; an indented one in the current view, or in
// system view when the current view does not know it (Session.parseHere).
func (s *Session) replayLine(ctx context.Context, raw, cmd string, t Terminal) *cliError {
	indented := raw[0] == ' ' || raw[0] == '\t'
	if !indented || s.view.kind == viewUser {
		s.view = view{kind: viewSystem}
	}
	return s.execute(ctx, cmd, t)
}

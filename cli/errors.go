package cli

import (
	"errors"
	"strings"

	"github.com/netdevd/netdevd/internal/device"
)

// errKind is one of Comware's command-line error messages.
type errKind int

const (
	errUnrecognized errKind = iota + 1
	errIncomplete
	errAmbiguous
	errTooMany
	errWrongParameter
	errPermission // no caret: "Permission denied."
	errMessage    // no caret: a command-specific line such as a limit reached
	errPlain      // no caret, printed as is
)

var caretMessages = map[errKind]string{
	errUnrecognized:   "% Unrecognized command found at '^' position.",
	errIncomplete:     "% Incomplete command found at '^' position.",
	errAmbiguous:      "% Ambiguous command found at '^' position.",
	errTooMany:        "% Too many parameters found at '^' position.",
	errWrongParameter: "% Wrong parameter found at '^' position.",
}

const permissionDenied = "Permission denied."

// cliError is a failed line: its kind, the byte offset in the typed line the
// caret points at, and for errMessage the line to print.
type cliError struct {
	kind errKind
	pos  int
	msg  string
}

func (e *cliError) Error() string { return e.message() }

// message is the text of the error's message line without the leading
// space (LineError.Message uses it).
func (e *cliError) message() string {
	switch e.kind {
	case errPermission:
		return permissionDenied
	case errMessage, errPlain:
		return e.msg
	}
	return caretMessages[e.kind]
}

// render is what the terminal shows: the caret line and the message line
// for syntax errors, the bare line for the others.
func (e *cliError) render(promptLen int) string {
	switch e.kind {
	case errPermission:
		return permissionDenied + "\n"
	case errMessage:
		return " " + e.msg + "\n"
	case errPlain:
		return e.msg + "\n"
	}
	return strings.Repeat(" ", promptLen+e.pos) + "^\n " + caretMessages[e.kind] + "\n"
}

func syntaxError(kind errKind, pos int) *cliError { return &cliError{kind: kind, pos: pos} }

// failure is a command-specific error line (Comware prints them after a
// space, starting with %).
func failure(msg string) *cliError { return &cliError{kind: errMessage, msg: "% " + msg} }

// asCLIError turns any error from a handler or the device into the line to
// print: ErrPermission becomes "Permission denied.".
func asCLIError(err error) *cliError {
	var ce *cliError
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, device.ErrPermission):
		return &cliError{kind: errPermission}
	}
	return failure(err.Error())
}

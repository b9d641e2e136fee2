package cli

import "io"

// Terminal is where a session's output goes and where its dialogues and
// pager read keys. The shells (interactive, line-mode, batch) implement it.
type Terminal interface {
	io.Writer
	// ReadLine prints prompt (no newline) and reads one answer line, as
	// `save` does for its questions. io.EOF when input has ended.
	ReadLine(prompt string) (string, error)
	// ReadSecret is ReadLine without echoing the answer where the terminal
	// can (passwords).
	ReadSecret(prompt string) (string, error)
	// ReadKey waits for one key at the pager's `  ---- More ----` prompt.
	ReadKey() (byte, error)
	// Rows is how many lines fit on a page; 0 means never page (batch runs).
	Rows() int
}

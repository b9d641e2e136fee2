package cli

import (
	"io"
	"strings"
)

const (
	morePrompt = "  ---- More ----"
	// moreErase blanks the pager prompt before output continues. Comware
	// uses backspaces; a carriage return, 16 spaces (the prompt's width)
	// and another carriage return leave the same screen and are simpler for
	// scripts to strip.
	moreErase = "\r                \r"
	keyCtrlC  = 0x03
)

// page writes text to t, pausing every t.Rows() lines when paging is on
// (Comware's screen-length: 24 lines, then the More prompt).
func (s *Session) page(t Terminal, text string) {
	rows := t.Rows()
	if text == "" {
		return
	}
	if !s.paging || rows <= 0 {
		io.WriteString(t, text)
		return
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	budget := rows
	for _, line := range lines {
		if budget == 0 {
			more, ok := askMore(t, rows)
			if !ok {
				return
			}
			budget = more
		}
		io.WriteString(t, line)
		budget--
	}
}

// askMore shows the pager prompt and returns how many lines to show next:
// a page for Space, one for Enter; false for q or Ctrl+C (or no input).
// Other keys are ignored, as on the device.
func askMore(t Terminal, page int) (int, bool) {
	io.WriteString(t, morePrompt)
	for {
		key, err := t.ReadKey()
		if err != nil {
			io.WriteString(t, moreErase)
			return 0, false
		}
		switch key {
		case ' ':
			io.WriteString(t, moreErase)
			return page, true
		case '\r', '\n':
			io.WriteString(t, moreErase)
			return 1, true
		case 'q', 'Q', keyCtrlC:
			io.WriteString(t, moreErase)
			return 0, false
		}
	}
}

package cli

import (
	"context"
	"io"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
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

// pageRows is how many lines a page holds for this session: the
// terminal's page (the shells give Comware's 24; 0 = never page, as in
// batch runs), or on a VTY line the lines' `screen-length N` when it was
// configured (0 = no paging).
func (s *Session) pageRows(ctx context.Context, t Terminal) int {
	rows := t.Rows()
	if rows <= 0 || !isVTY(s.id) {
		return rows
	}
	if cfg, err := s.dev.Running(ctx); err == nil && cfg.VTY.ScreenLength != config.DefaultScreenLength {
		return cfg.VTY.ScreenLength
	}
	return rows
}

func isVTY(id device.Identity) bool { return strings.HasPrefix(id.Line, "VTY") }

// page writes text to t, pausing every rows lines when paging is on
// (Comware's screen-length: 24 lines, then the More prompt).
func (s *Session) page(t Terminal, text string, rows int) {
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

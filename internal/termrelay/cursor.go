package termrelay

import (
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// cprPattern is a cursor position report, the answer to ESC[6n.
var cprPattern = regexp.MustCompile(`\x1b\[([0-9]{1,4});([0-9]{1,4})R`)

// FindCPR returns the first cursor position report in b (1-based row and
// column) and b without it.
func FindCPR(b []byte) (row, col int, rest []byte, ok bool) {
	loc := cprPattern.FindSubmatchIndex(b)
	if loc == nil {
		return 0, 0, b, false
	}
	row, _ = strconv.Atoi(string(b[loc[2]:loc[3]]))
	col, _ = strconv.Atoi(string(b[loc[4]:loc[5]]))
	rest = append(append([]byte(nil), b[:loc[0]]...), b[loc[1]:]...)
	return row, col, rest, true
}

// PartialCPR reports whether b ends with what could be the start of a cursor
// position report (ESC, ESC[, ESC[12, ESC[12;3 ...).
func PartialCPR(b []byte) bool {
	i := len(b) - 1
	for i >= 0 && (b[i] >= '0' && b[i] <= '9' || b[i] == ';') {
		i--
	}
	if i >= 0 && b[i] == '[' {
		i--
		return i >= 0 && b[i] == 0x1b
	}
	return i == len(b)-1 && i >= 0 && b[i] == 0x1b
}

// CursorModel follows where the client's terminal cursor is, from the bytes
// the relay sends to it, so that the relay can answer the shell child's
// cursor position queries (ESC[6n) itself instead of paying a network round
// trip per keystroke, and instead of hanging on clients that never answer.
//
// It understands what a line editor emits: printable characters (UTF-8,
// with readline's display widths: wide characters take two cells), CR, LF, BS, TAB, and CSI A/B/C/D/G/H/f/d,
// CSI s/u and ESC 7/8; everything else is forwarded and does not move the
// model. Wrapping follows xterm: writing the last column leaves the cursor
// there with a pending wrap that the next printable character performs.
//
// It also works as a filter: Feed returns the bytes to forward with every
// ESC[6n removed, and calls onQuery at the position in the stream where each
// query was, with the cursor position at that point.
type CursorModel struct {
	width, height int
	row, col      int // 0-based
	wrapPending   bool
	savedRow      int
	savedCol      int

	state  int    // parser state
	seq    []byte // escape sequence being parsed (held back until complete)
	params []byte
	utf    []byte // UTF-8 sequence being collected
}

const (
	stNormal = iota
	stEsc
	stCSI
	stOSC
	stOSCEsc
)

func NewCursorModel(width, height, row, col int) *CursorModel {
	m := &CursorModel{}
	m.Resize(width, height)
	m.row, m.col = clamp(row, 0, m.height-1), clamp(col, 0, m.width-1)
	return m
}

func (m *CursorModel) Resize(width, height int) {
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	m.width, m.height = width, height
	m.row = clamp(m.row, 0, height-1)
	m.col = clamp(m.col, 0, width-1)
}

// report is the answer a terminal gives to ESC[6n right now.
func (m *CursorModel) Report() []byte {
	return fmt.Appendf(nil, "\x1b[%d;%dR", m.row+1, m.col+1)
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Feed processes output bytes. It appends the bytes to forward to out and
// returns it; each time a query is found it first calls flush with what is
// to be forwarded so far (so that the client sees the output before the
// query is answered), then onQuery.
func (m *CursorModel) Feed(p []byte, flush func([]byte) error, onQuery func() error) error {
	out := make([]byte, 0, len(p)+8)
	for _, c := range p {
		switch m.state {
		case stNormal:
			if len(m.utf) > 0 && c < 0x80 { // a UTF-8 sequence cut short
				m.utf = m.utf[:0]
				m.printable(1)
			}
			switch {
			case c == 0x1b:
				m.state = stEsc
				m.seq = append(m.seq[:0], c)
				continue
			case c == '\r':
				m.col, m.wrapPending = 0, false
			case c == '\n' || c == '\v' || c == '\f':
				m.lineFeed()
			case c == '\b':
				if m.col > 0 {
					m.col--
				}
				m.wrapPending = false
			case c == '\t':
				m.col = min((m.col/8+1)*8, m.width-1)
				m.wrapPending = false
			case c < 0x20 || c == 0x7f:
				// other controls (BEL…) do not move the cursor
			case c >= 0x80:
				m.utf8Byte(c)
			default:
				m.printable(1)
			}
			out = append(out, c)
		case stEsc:
			m.seq = append(m.seq, c)
			switch c {
			case '[':
				m.state = stCSI
				m.params = m.params[:0]
				continue
			case ']':
				m.state = stOSC
				continue
			case '7':
				m.savedRow, m.savedCol = m.row, m.col
			case '8':
				m.row, m.col, m.wrapPending = m.savedRow, m.savedCol, false
			case 'D':
				m.lineFeed()
			case 'E':
				m.lineFeed()
				m.col = 0
			case 'M':
				if m.row > 0 {
					m.row--
				}
			}
			out = append(out, m.seq...)
			m.seq = m.seq[:0]
			m.state = stNormal
		case stCSI:
			m.seq = append(m.seq, c)
			if c >= 0x40 && c <= 0x7e { // final byte
				m.state = stNormal
				if c == 'n' && string(m.params) == "6" {
					m.seq = m.seq[:0]
					if len(out) > 0 {
						if err := flush(out); err != nil {
							return err
						}
						out = out[:0]
					}
					if err := onQuery(); err != nil {
						return err
					}
					continue
				}
				m.csi(c)
				out = append(out, m.seq...)
				m.seq = m.seq[:0]
				continue
			}
			m.params = append(m.params, c)
			if len(m.seq) > 64 { // not a sequence we know: give up on it
				out = append(out, m.seq...)
				m.seq = m.seq[:0]
				m.state = stNormal
			}
		case stOSC, stOSCEsc:
			m.seq = append(m.seq, c)
			switch {
			case c == 0x07 || (m.state == stOSCEsc && c == '\\'):
				m.state = stNormal
			case c == 0x1b:
				m.state = stOSCEsc
				continue
			default:
				m.state = stOSC
				if len(m.seq) < 512 {
					continue
				}
				m.state = stNormal
			}
			if m.state == stNormal {
				out = append(out, m.seq...)
				m.seq = m.seq[:0]
			}
		}
	}
	if len(out) > 0 {
		return flush(out)
	}
	return nil
}

func (m *CursorModel) lineFeed() {
	if m.row < m.height-1 {
		m.row++
	}
	m.wrapPending = false
}

// utf8Byte collects a UTF-8 sequence; a complete character advances by its
// display width as readline computes it (uniseg): 2 for wide characters, 0
// for combining marks. A broken sequence counts as one cell.
func (m *CursorModel) utf8Byte(c byte) {
	if c >= 0xc0 || len(m.utf) == 0 {
		if len(m.utf) > 0 {
			m.printable(1) // previous sequence was cut short
		}
		m.utf = append(m.utf[:0], c)
		if c < 0xc0 { // stray continuation byte
			m.utf = m.utf[:0]
			m.printable(1)
		}
		return
	}
	m.utf = append(m.utf, c)
	if !utf8.FullRune(m.utf) {
		if len(m.utf) >= utf8.UTFMax {
			m.utf = m.utf[:0]
			m.printable(1)
		}
		return
	}
	r, _ := utf8.DecodeRune(m.utf)
	m.utf = m.utf[:0]
	if r == utf8.RuneError {
		m.printable(1)
		return
	}
	m.printable(uniseg.StringWidth(string(r)))
}

// printable advances over a character w cells wide.
func (m *CursorModel) printable(w int) {
	if w <= 0 {
		return
	}
	if m.wrapPending {
		m.col = 0
		m.lineFeed()
	}
	if m.col+w > m.width { // does not fit: the terminal wraps first
		m.col = 0
		m.lineFeed()
	}
	m.col += w
	if m.col >= m.width {
		m.col = m.width - 1
		m.wrapPending = true
	}
}

// csi applies a complete CSI sequence with final byte f to the model.
func (m *CursorModel) csi(f byte) {
	// private sequences (ESC[?25l…) do not move the cursor
	if len(m.params) > 0 && (m.params[0] == '?' || m.params[0] == '>' || m.params[0] == '=') {
		return
	}
	var args []int
	cur, have := 0, false
	for _, c := range m.params {
		switch {
		case c >= '0' && c <= '9':
			cur = cur*10 + int(c-'0')
			if cur > 100000 {
				cur = 100000
			}
			have = true
		case c == ';':
			args = append(args, cur)
			cur, have = 0, false
		}
	}
	if have || len(args) > 0 {
		args = append(args, cur)
	}
	arg := func(i, def int) int {
		if i < len(args) && args[i] != 0 {
			return args[i]
		}
		return def
	}
	switch f {
	case 'A':
		m.row = max(m.row-arg(0, 1), 0)
	case 'B', 'e':
		m.row = min(m.row+arg(0, 1), m.height-1)
	case 'C', 'a':
		m.col = min(m.col+arg(0, 1), m.width-1)
	case 'D':
		m.col = max(m.col-arg(0, 1), 0)
	case 'E':
		m.row = min(m.row+arg(0, 1), m.height-1)
		m.col = 0
	case 'F':
		m.row = max(m.row-arg(0, 1), 0)
		m.col = 0
	case 'G', '`':
		m.col = clamp(arg(0, 1)-1, 0, m.width-1)
	case 'd':
		m.row = clamp(arg(0, 1)-1, 0, m.height-1)
	case 'H', 'f':
		m.row = clamp(arg(0, 1)-1, 0, m.height-1)
		m.col = clamp(arg(1, 1)-1, 0, m.width-1)
	case 's':
		m.savedRow, m.savedCol = m.row, m.col
	case 'u':
		m.row, m.col = m.savedRow, m.savedCol
	default:
		return // J, K, m, l, h…: no movement
	}
	m.wrapPending = false
}

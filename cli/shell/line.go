package shell

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/ttymode"
)

// LineOptions tunes RunLine.
type LineOptions struct {
	// Rows is the page height reported to the grammar. 0 = detect: the
	// window height when in is a terminal, else 24 (Comware pages by
	// default; `screen-length disable` is the engine's business).
	Rows int
	// Logs are live log lines (terminal monitor; nil = none): printed at
	// once while the session waits at its prompt (the line, then the prompt
	// again), else before the next prompt (monitor.go).
	Logs <-chan string
}

// RunLine runs a line-mode session: print the prompt, read one line, run
// it, until the engine has ended (`quit` in user view) or input ends.
//
// It writes no escape sequences of its own. When in is a terminal (the
// SSH relay's PTY) RunLine puts it in ttymode.LineInput mode (no kernel
// echo, no kernel line editing, no signal keys) and restores it on return:
// RunLine echoes and erases itself, each byte when it reads it, as a
// device's CLI does. Kernel echo would happen when input arrives, so input
// sent ahead (during the terminal probe, or while a command runs) would be
// echoed ahead of the prompt or output it follows. When in is not a
// terminal nothing is echoed, but each line read is followed by "\n" so
// that output starts on its own line, as after a typed Enter.
//
// A line ending in `?` prints the help for the text before it, then the
// prompt and that text again; the next line read is appended to it (the
// kernel's buffer cannot be pre-filled, so the text is pending in RunLine).
// A line ending in Ctrl+Z runs `return`; one ending in Ctrl+C is dropped.
// On a terminal, Ctrl+C while a command runs breaks the command (its
// context ends), not the session.
// "\n", "\r" and "\r\n" all end a line; a last line without one still runs.
//
// It returns nil at the end of the session or of input, and ctx.Err() as
// soon as ctx ends (even while waiting for input).
func RunLine(ctx context.Context, e Engine, in io.Reader, out io.Writer, opts LineOptions) error {
	s := newLineSession(in, out, opts)
	defer s.restore()
	if err := ctx.Err(); err != nil {
		return err
	}
	stopLogs := make(chan struct{})
	defer func() { close(stopLogs); s.mon.close() }()
	feedLogs(ctx, opts.Logs, stopLogs, s.mon.show)
	// A blocked read cannot be interrupted: when ctx ends, RunLine returns
	// at once and the loop is left parked in its read (the process is
	// expected to exit); it checks ctx before running anything it reads.
	done := make(chan error, 1)
	go func() { done <- s.loop(ctx, e) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *lineSession) loop(ctx context.Context, e Engine) error {
	pending := "" // text before a `?`, waiting for the rest of its line
	for !e.Ended() {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mon.showPrompt(e.Prompt(ctx) + pending)
		text, end, err := s.in.next()
		s.mon.leavePrompt()
		if err != nil {
			// EIO: the PTY's other side has closed (the SSH session ended).
			if errors.Is(err, io.EOF) || errors.Is(err, unix.EIO) {
				s.out.lineStart()
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch end {
		case keyCtrlC:
			s.enterPressed(end)
			pending = ""
			continue
		case keyCtrlZ:
			s.enterPressed(end)
			pending = ""
			e.Execute(ctx, "return", s.term)
			continue
		}
		line := pending + text
		pending = ""
		if strings.HasSuffix(line, "?") {
			if !s.echo {
				s.out.WriteString(text + "\n") // what the kernel would have echoed
			} else {
				s.enterPressed(end)
			}
			partial := strings.TrimSuffix(line, "?")
			s.out.WriteString(e.Help(ctx, partial))
			pending = partial
			continue
		}
		s.enterPressed(end)
		if strings.TrimSpace(line) == "" {
			continue // an empty line just prints the prompt again
		}
		s.execute(ctx, e, line)
	}
	s.out.lineStart()
	return nil
}

// lineSession is the state of one RunLine call.
type lineSession struct {
	in    *lineReader
	out   *trackWriter
	term  *lineTerminal
	mon   *lineMonitor // live log lines (monitor.go)
	fd    int          // in's terminal descriptor, -1 for a pipe
	echo  bool         // typed keys are echoed (in is a terminal)
	saved *unix.Termios
	// breaks gets SIGINT, which the terminal makes of Ctrl+C while a
	// command runs (nil on a pipe). It is caught for the whole session:
	// a Ctrl+C at the very end of a command must not kill the shell.
	breaks  chan os.Signal
	running bool // a command runs: the terminal is in Breakable mode
}

func newLineSession(in io.Reader, out io.Writer, opts LineOptions) *lineSession {
	s := &lineSession{
		in:  &lineReader{r: bufio.NewReader(in)},
		out: &trackWriter{w: out, atStart: true},
		fd:  ttyFD(in),
	}
	s.mon = &lineMonitor{out: s.out}
	if s.fd >= 0 {
		// Ctrl+Z and Ctrl+C reach us as keys (no signals, no Ctrl+\
		// goroutine dump); the kernel neither echoes nor edits.
		if old, err := ttymode.SetLineInput(s.fd); err == nil {
			s.saved, s.echo = old, true
			s.in.echo = s.mon.echo
			s.breaks = make(chan os.Signal, 1)
			signal.Notify(s.breaks, syscall.SIGINT)
		}
	}
	rows := opts.Rows
	if rows == 0 {
		rows = windowRows(s.fd)
		if rows <= 0 {
			rows = windowRows(ttyFD(out))
		}
		if rows <= 0 {
			rows = defaultRows
		}
	}
	if rows < 0 {
		rows = 0
	}
	s.term = &lineTerminal{s: s, rows: rows}
	return s
}

func (s *lineSession) restore() {
	if s.saved != nil {
		_ = setTermios(s.fd, s.saved)
		s.saved = nil
	}
	if s.breaks != nil {
		signal.Stop(s.breaks)
	}
}

// execute runs line. On a terminal Ctrl+C breaks it, as on the device:
// the command's context ends (ping prints its statistics so far) while
// the session goes on.
func (s *lineSession) execute(ctx context.Context, e Engine, line string) {
	if s.breaks == nil {
		e.Execute(ctx, line, s.term)
		return
	}
	select {
	case <-s.breaks: // a late Ctrl+C of the command before
	default:
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-s.breaks:
			cancel()
		case <-done:
		}
	}()
	s.setRunning(true)
	defer s.setRunning(false)
	e.Execute(cctx, line, s.term)
}

// setRunning switches the terminal between the prompt's mode (Ctrl+C is
// a key) and a running command's (Ctrl+C breaks it).
func (s *lineSession) setRunning(on bool) {
	s.running = on
	mode := ttymode.LineInput
	if on {
		mode = ttymode.Breakable
	}
	_ = ttymode.Set(s.fd, mode)
}

// answering is for a running command reading its answer: Ctrl+C is then
// a key that cancels the question, as at the prompt. It returns the
// function that gives the command Ctrl+C back.
func (s *lineSession) answering() (done func()) {
	if !s.running {
		return func() {}
	}
	s.setRunning(false)
	return func() { s.setRunning(true) }
}

// enterPressed accounts for the end of a line read: the cursor is now at
// column 0 of a new line (the kernel echoed the newline, or we write it).
func (s *lineSession) enterPressed(end byte) {
	if !s.echo || end != '\n' {
		// Pipe: nothing was echoed. Terminal: Ctrl+C/Ctrl+Z echo as
		// "^C"/"^Z" without a newline.
		s.out.WriteString("\n")
	}
	s.out.atStart = true
}

// lineTerminal is the Terminal the grammar gets in line mode.
type lineTerminal struct {
	s    *lineSession
	rows int
}

func (t *lineTerminal) Write(p []byte) (int, error) { return t.s.out.Write(p) }

func (t *lineTerminal) Rows() int { return t.rows }

// ReadLine reads one answer line (e.g. `save`'s questions).
func (t *lineTerminal) ReadLine(prompt string) (string, error) {
	s := t.s
	defer s.answering()()
	s.out.WriteString(prompt)
	text, end, err := s.in.next()
	if err != nil {
		return "", err
	}
	s.enterPressed(end)
	if end == keyCtrlC || end == keyCtrlZ {
		return "", ErrInterrupted
	}
	return text, nil
}

// ReadKey reads one key for the pager. On a terminal the line discipline
// is switched to non-canonical, no-echo mode for that one key only, so
// Space works without Enter; on a pipe the next byte is the key.
func (t *lineTerminal) ReadKey() (byte, error) {
	s := t.s
	// keyMode turns signal keys off for the key read: Ctrl+C is a key.
	if s.fd >= 0 && s.in.r.Buffered() == 0 {
		restore, err := keyMode(s.fd)
		if err == nil {
			defer restore()
		}
	}
	return s.in.key()
}

// lineReader splits input into lines ended by "\n", "\r", "\r\n",
// Ctrl+Z or Ctrl+C. On a terminal (echo set) it is also the line editor:
// it echoes what it reads and handles the erase keys, as the kernel's
// canonical mode would, but at the time the shell reads the bytes.
type lineReader struct {
	r       *bufio.Reader
	echo    func([]byte) // terminal: where the echo goes; nil on a pipe
	afterCR bool         // skip a "\n" right after a "\r"
	buf     []byte
	shown   []byte // echo not written yet (written before a read blocks)
	hidden  bool   // a password: typed keys are not echoed (ReadSecret)
}

// next returns the next line without its end, and the end: '\n' (also for
// "\r" and for a last line without end), keyCtrlZ or keyCtrlC. On a
// terminal, Ctrl+D on an empty line is the end of input (io.EOF).
func (lr *lineReader) next() (string, byte, error) {
	lr.buf = lr.buf[:0]
	defer lr.flush()
	for {
		c, err := lr.readByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(lr.buf) > 0 {
				return string(lr.buf), '\n', nil
			}
			return "", 0, err
		}
		if lr.afterCR {
			lr.afterCR = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\r', '\n':
			lr.afterCR = c == '\r'
			lr.show("\n")
			return string(lr.buf), '\n', nil
		case keyCtrlZ, keyCtrlC:
			lr.show(string([]byte{'^', c + '@'})) // "^Z", "^C"
			return string(lr.buf), c, nil
		}
		if lr.echo == nil {
			lr.buf = append(lr.buf, c) // a pipe: every other byte is text
			continue
		}
		if c == keyCtrlD && len(lr.buf) == 0 {
			return "", 0, io.EOF
		}
		lr.edit(c)
	}
}

// edit applies one key typed on a terminal (not a line end) to the line.
func (lr *lineReader) edit(c byte) {
	switch {
	case c == keyBS || c == keyDEL:
		lr.erase(1)
	case c == keyCtrlU:
		lr.erase(len(lr.buf))
	case c == keyCtrlW:
		lr.erase(wordTail(lr.buf))
	case c == keyESC:
		lr.skipEscape()
	case c < 0x20:
		// Other control keys mean nothing in a command line: dropped.
	default:
		lr.buf = append(lr.buf, c)
		if !lr.hidden {
			lr.shown = append(lr.shown, c)
		}
	}
}

// erase removes the last n characters (runes) of the line from the line
// and from the screen.
func (lr *lineReader) erase(n int) {
	for ; n > 0 && len(lr.buf) > 0; n-- {
		lr.buf = dropLastRune(lr.buf)
		if !lr.hidden {
			lr.show("\b \b")
		}
	}
}

// wordTail is how many characters Ctrl+W erases at the end of b: the
// blanks, then the word before them.
func wordTail(b []byte) int {
	r := []rune(string(b))
	i := len(r)
	for i > 0 && r[i-1] == ' ' {
		i--
	}
	for i > 0 && r[i-1] != ' ' {
		i--
	}
	return len(r) - i
}

// skipEscape drops the rest of an escape sequence (ESC [ … final byte,
// ESC O x): arrow keys, or a cursor report that came too late for the
// relay to remove. A byte that does not continue a sequence is kept.
func (lr *lineReader) skipEscape() {
	c, err := lr.readByte()
	if err != nil {
		return
	}
	switch c {
	case 'O':
		lr.readByte()
	case '[':
		for c, err = lr.readByte(); err == nil && (c < 0x40 || c > 0x7e); c, err = lr.readByte() {
		}
	default:
		_ = lr.r.UnreadByte()
	}
}

func (lr *lineReader) show(s string) {
	if lr.echo != nil {
		lr.shown = append(lr.shown, s...)
	}
}

// flush writes the echo not written yet.
func (lr *lineReader) flush() {
	if len(lr.shown) > 0 && lr.echo != nil {
		lr.echo(lr.shown)
	}
	lr.shown = lr.shown[:0]
}

// readByte is the next input byte; the echo of what came before is
// written first when the read may block (nothing buffered), so that a
// client that waits for the echo of what it sent gets it.
func (lr *lineReader) readByte() (byte, error) {
	if lr.r.Buffered() == 0 {
		lr.flush()
	}
	return lr.r.ReadByte()
}

// key returns the next byte.
func (lr *lineReader) key() (byte, error) {
	c, err := lr.readByte()
	if err != nil {
		return 0, err
	}
	lr.afterCR = c == '\r'
	return c, nil
}

// trackWriter remembers whether the output ends at the start of a line,
// so that every prompt starts on a line of its own.
type trackWriter struct {
	w       io.Writer
	atStart bool
}

func (t *trackWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := t.w.Write(p)
	if n > 0 {
		// After "\r" (a pager that erased its line) the cursor is at
		// column 0 of an empty line as well.
		t.atStart = p[n-1] == '\n' || p[n-1] == '\r'
	}
	return n, err
}

func (t *trackWriter) WriteString(s string) {
	_, _ = t.Write([]byte(s))
}

// lineStart ends the current output line unless it is already ended.
func (t *trackWriter) lineStart() {
	if !t.atStart {
		t.WriteString("\n")
	}
}

// dropLastRune removes the last UTF-8 character of b.
func dropLastRune(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	_, size := utf8.DecodeLastRune(b)
	return b[:len(b)-size]
}

package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/reeflective/console"
	"github.com/reeflective/readline"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// InteractiveOptions tunes RunInteractive.
type InteractiveOptions struct {
	// Inputrc is the readline configuration file to use. Empty:
	// DefaultInputrc, from an in-memory file (sessions end with SIGHUP or
	// SIGKILL, so a temporary file on disk would be left behind). Either way INPUTRC is set in the environment before readline
	// initialises, so ~/.inputrc and /etc/inputrc are never read.
	Inputrc string
	// Rows is the page height reported to the grammar. 0 = the window
	// height, 24 when the terminal does not tell.
	Rows int
	// Logs are live log lines (terminal monitor; nil = none): printed
	// above the prompt at once, the prompt and the line being typed
	// redrawn below; while a command runs, before the next prompt
	// (monitor_readline.go).
	Logs <-chan string
}

// DefaultInputrc is the readline configuration of the interactive shell:
// emacs keys, no colours, no hints, no autosuggestion, no autopairs: the
// plain look of a Comware terminal.
const DefaultInputrc = `set editing-mode emacs
set bell-style none
set enable-bracketed-paste off
set autopairs off
set blink-matching-paren off
set history-autosuggest off
set usage-hint-always off
set autocomplete off
set show-all-if-ambiguous off
set show-all-if-unmodified off
set completion-ignore-case on
set menu-complete-display-prefix off
set colored-stats off
set colored-completion-prefix off
set visible-stats off
set mark-directories off
set page-completions off
set prompt-transient off
set transient-prompt off
set show-mode-in-prompt off
set multiline-column off
set multiline-column-numbered off
set completion-display-width 80
"\C-x\C-r": abort
`

// Settings the console library turns on after reading the inputrc, and the
// values the shell forces back.
var forcedSettings = map[string]any{
	"autopairs":                    false,
	"blink-matching-paren":         false,
	"history-autosuggest":          false,
	"usage-hint-always":            false,
	"autocomplete":                 false,
	"skip-completed-text":          true,
	"menu-complete-display-prefix": false, // Tab cycles in place (complete, below)
	"completion-ignore-case":       true,
	"show-all-if-ambiguous":        false,
	"show-all-if-unmodified":       false,
	"bell-style":                   "none",
	"enable-bracketed-paste":       false,
	"prompt-transient":             false,
	"transient-prompt":             false,
	"multiline-column":             false,
	"multiline-column-numbered":    false,
}

// RunInteractive runs an interactive session on os.Stdin/os.Stdout, which
// must be a terminal. readline drives the terminal through package globals,
// so there is one interactive session per process, and RunInteractive may
// be called once: when it returns, readline's loop goroutine is left parked
// (the caller is expected to exit).
//
// It returns nil when the session ends (`quit` in user view, Ctrl+D on an
// empty line) and ctx.Err() when ctx is cancelled. SIGTERM/SIGINT stop
// being fatal after the first command (the console library keeps
// signal.Notify for them); end the process with SIGHUP.
func RunInteractive(ctx context.Context, e Engine, opts InteractiveOptions) error {
	if ttyFD(os.Stdin) < 0 || ttyFD(os.Stdout) < 0 {
		return errors.New("interactive shell: standard input and output must be a terminal")
	}
	releaseInputrc, err := useInputrc(opts.Inputrc)
	if err != nil {
		return fmt.Errorf("interactive shell: %w", err)
	}
	// Ctrl+Z while a command runs (signals are on then) must not stop
	// the shell.
	signal.Ignore(syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU)

	s := &interactive{
		e:    e,
		ctx:  ctx,
		term: &stdTerminal{fd: ttyFD(os.Stdin), out: &trackWriter{w: os.Stdout, atStart: true}, rows: opts.Rows},
		done: make(chan struct{}),
	}
	s.setup()
	releaseInputrc()
	defer s.logs.install(s.term.fd)()
	stopLogs := make(chan struct{})
	defer close(stopLogs)
	feedLogs(ctx, opts.Logs, stopLogs, s.logs.notify)

	saved, _ := getTermios(s.term.fd)
	defer func() {
		if saved != nil {
			_ = setTermios(s.term.fd, saved)
		}
	}()
	go func() { _ = s.app.StartContext(ctx) }()

	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// useInputrc points INPUTRC at path or, when path is empty, at an
// in-memory file (memfd) holding DefaultInputrc: nothing on disk that a
// killed session could leave behind. The returned function closes the
// memfd; call it once readline has read its configuration (the inputrc
// unbinds re-read-init-file, so it is never read again).
func useInputrc(path string) (release func(), err error) {
	release = func() {}
	if path == "" {
		fd, err := unix.MemfdCreate("netdevd-inputrc", unix.MFD_CLOEXEC)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), "netdevd-inputrc")
		release = func() { f.Close() }
		if _, err := f.WriteString(DefaultInputrc); err != nil {
			release()
			return nil, err
		}
		path = fmt.Sprintf("/proc/self/fd/%d", fd)
	}
	if err := os.Setenv("INPUTRC", path); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// interactive is one RunInteractive session.
type interactive struct {
	e    Engine
	ctx  context.Context
	app  *console.Console
	rl   *readline.Shell
	term *stdTerminal

	// running is held while a command runs. Ctrl+C while it runs (SIGINT)
	// makes the console cancel the command's context and go back to
	// reading at once; the next prompt waits here until the command has
	// printed its last words (ping's statistics).
	running sync.Mutex

	mu     sync.Mutex
	raw    string // the line as typed, captured when readline accepts it
	prompt string // e.Prompt, read once per line
	stop   bool   // Ctrl+D
	done   chan struct{}
	logs   interactiveLogs // terminal monitor (monitor_readline.go)
}

func (s *interactive) setup() {
	s.app = console.New("netdevd")
	s.rl = s.app.Shell()
	for k, v := range forcedSettings {
		_ = s.rl.Config.Set(k, v)
	}
	s.rl.SyntaxHighlighter = nil

	// The raw line, so the grammar sees double spaces, quotes and `#`
	// exactly as typed (caret columns depend on it). Every accepted line
	// goes through here; returning true means no continuation lines.
	s.rl.AcceptMultiline = func(line []rune) bool {
		s.mu.Lock()
		s.raw = string(line)
		s.mu.Unlock()
		return true
	}
	s.rl.Completer = s.complete

	s.rl.Keymap.Register(map[string]func(){
		"netdevd-help":   s.help,
		"netdevd-return": s.ctrlZ,
		"netdevd-logs":   s.showLogs,
	})
	_ = s.rl.Config.Bind("emacs", string(rune(keyLogs)), "netdevd-logs", false)
	_ = s.rl.Config.Bind("emacs", "?", "netdevd-help", false)
	_ = s.rl.Config.Bind("emacs", string(rune(keyCtrlZ)), "netdevd-return", false)

	menu := s.app.ActiveMenu()
	menu.SetCommands(s.rootCommand)
	menu.Prompt().Primary = func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.prompt
	}
	menu.AddInterrupt(io.EOF, func(*console.Console) {
		s.mu.Lock()
		s.stop = true
		s.mu.Unlock()
	})
	// Ctrl+C at the prompt drops the line; the next prompt follows.
	menu.AddInterrupt(readline.ErrInterrupt, func(*console.Console) {})
	menu.ErrorHandler = func(err error) error {
		// The console parses lines as shell words; a line it cannot parse
		// (an unbalanced quote…) is still a line for the grammar.
		var perr console.ParseError
		if errors.As(err, &perr) {
			s.execute(s.ctx, s.rawLine())
		}
		return nil
	}
	s.app.PreReadlineHooks = append(s.app.PreReadlineHooks, s.beforeRead)
}

// rootCommand is the console's command tree: one catch-all root that hands
// the raw line to the grammar. It is rebuilt before every line.
func (s *interactive) rootCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "netdevd",
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		SilenceErrors:      true,
		SilenceUsage:       true,
		CompletionOptions:  cobra.CompletionOptions{DisableDefaultCmd: true},
		Run: func(cmd *cobra.Command, _ []string) {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = s.ctx
			}
			s.execute(ctx, s.rawLine())
		},
	}
}

func (s *interactive) rawLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw
}

func (s *interactive) execute(ctx context.Context, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	// Run mode (no echo, no kernel line editing, signals on) lasts until
	// readline takes the terminal again: readline saves it and restores it
	// after each line, and RunInteractive restores the original mode.
	s.running.Lock()
	defer s.running.Unlock()
	runMode(s.term.fd)
	s.e.Execute(ctx, line, s.term)
	s.term.out.lineStart()
}

// beforeRead runs before each prompt: it ends the session when asked, and
// reads the prompt once for this line.
func (s *interactive) beforeRead() error {
	s.running.Lock()
	//lint:ignore SA2001 a barrier: an interrupted command finishes first
	s.running.Unlock()
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop || s.e.Ended() {
		close(s.done)
		select {} // RunInteractive returns; readline is never entered again
	}
	p := s.e.Prompt(s.ctx)
	s.mu.Lock()
	s.prompt = p
	s.mu.Unlock()
	s.term.out.lineStart()
	s.flushLogs()
	return nil
}

// help is bound to `?`: the `?` is shown after the line, the help follows,
// then the prompt and the line come back with the cursor where it was. The
// `?` never enters the line. The help is for the text left of the cursor.
func (s *interactive) help() {
	line, cur := s.rl.Line(), s.rl.Cursor()
	pos := cur.Pos()
	text := string((*line)[:pos])
	help := s.e.Help(s.ctx, text)

	// Show the whole line, cursor at its end, then the `?`.
	s.rl.Display.ResetHelpers()
	cur.Set(line.Len())
	s.rl.Display.Refresh()
	os.Stdout.WriteString("?\r\n" + crlf(help))
	if !strings.HasSuffix(help, "\n") {
		os.Stdout.WriteString("\r\n")
	}
	cur.Set(pos)
	s.rl.Display.PrintPrimaryPrompt()
}

// ctrlZ is bound to Ctrl+Z: the line becomes `return` and is entered.
func (s *interactive) ctrlZ() {
	s.rl.Line().Set([]rune("return")...)
	s.rl.Cursor().Set(s.rl.Line().Len())
	s.rl.Display.Refresh()
	if accept := s.rl.Keymap.Commands()["accept-line"]; accept != nil {
		accept()
	}
}

// complete offers the grammar's keywords for the word left of the cursor.
func (s *interactive) complete(line []rune, pos int) readline.Completions {
	if pos > len(line) {
		pos = len(line)
	}
	words := s.e.Complete(string(line[:pos]))
	comps := make([]readline.Completion, 0, len(words))
	for _, w := range words {
		// A completed keyword is followed by a space, as on Comware.
		comps = append(comps, readline.Completion{Value: w + " ", Display: w})
	}
	return readline.CompleteRaw(comps)
}

// crlf turns "\n" into "\r\n" for output while the terminal is raw.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// stdTerminal is the Terminal the grammar gets in the interactive shell.
// While a command runs, readline has restored the terminal's cooked mode;
// ReadKey and ReadLine put it in non-canonical, no-echo, no-signal mode
// for their own reads (so Ctrl+C arrives as a key, not as SIGINT) and
// restore it. They read os.Stdin unbuffered, byte by byte, so that no
// keystroke meant for readline is taken.
type stdTerminal struct {
	fd   int
	out  *trackWriter
	rows int
}

func (t *stdTerminal) Write(p []byte) (int, error) { return t.out.Write(p) }

func (t *stdTerminal) Rows() int {
	if t.rows != 0 {
		if t.rows < 0 {
			return 0
		}
		return t.rows
	}
	if r := windowRows(t.fd); r > 0 {
		return r
	}
	return defaultRows
}

func (t *stdTerminal) readByte() (byte, error) {
	var b [1]byte
	for {
		n, err := os.Stdin.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func (t *stdTerminal) ReadKey() (byte, error) {
	restore, err := keyMode(t.fd)
	if err != nil {
		return 0, err
	}
	defer restore()
	return t.readByte()
}

// ReadLine reads an answer with minimal editing: Backspace/Delete erase a
// character, Ctrl+U the answer, Enter ends it, Ctrl+C/Ctrl+Z abort it
// (ErrInterrupted), Ctrl+D on an empty answer is io.EOF; escape sequences
// (arrows) are ignored.
func (t *stdTerminal) ReadLine(prompt string) (string, error) {
	return t.readAnswer(prompt, true)
}

// readAnswer is ReadLine, echoing the keys typed only when echo is set.
func (t *stdTerminal) readAnswer(prompt string, echo bool) (string, error) {
	t.out.WriteString(prompt)
	restore, err := keyMode(t.fd)
	if err != nil {
		return "", err
	}
	defer restore()
	show := func(s string) {
		if echo {
			t.out.WriteString(s)
		}
	}
	var buf []byte
	for {
		c, err := t.readByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '\r' || c == '\n':
			t.out.WriteString("\n")
			return string(buf), nil
		case c == keyCtrlC || c == keyCtrlZ:
			t.out.WriteString("\n")
			return "", ErrInterrupted
		case c == keyCtrlD && len(buf) == 0:
			t.out.WriteString("\n")
			return "", io.EOF
		case c == keyBS || c == keyDEL:
			if len(buf) > 0 {
				buf = dropLastRune(buf)
				show("\b \b")
			}
		case c == keyCtrlU:
			for range len([]rune(string(buf))) {
				show("\b \b")
			}
			buf = buf[:0]
		case c == keyESC:
			t.skipEscape()
		case c < 0x20:
			// other control keys: ignored
		default:
			buf = append(buf, c)
			show(string([]byte{c}))
		}
	}
}

// skipEscape drops the rest of an escape sequence (ESC [ … final, ESC O x).
func (t *stdTerminal) skipEscape() {
	c, err := t.readByte()
	if err != nil || (c != '[' && c != 'O') {
		return
	}
	for {
		c, err = t.readByte()
		if err != nil || (c >= 0x40 && c <= 0x7e) {
			return
		}
	}
}

// Package scriptclient drives interactive SSH shell sessions the way
// screen-scraping automation does (scrapli and Netmiko over paramiko): a
// PTY, no terminal emulator (the relay's terminal probe goes unanswered),
// escape sequences and CRs stripped from what is read, and the prompt
// recognised only on a line of its own. It runs the patterns of issue 11
// ("script sessions lose their first command") and says, for one session,
// whether the command got through. Used by the end-to-end tests, the sshd
// tests and the bench (cmd/netdevd-bench, scriptsessions.go).
package scriptclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Pattern is one way of opening a session and sending the first command.
type Pattern string

const (
	// Paramiko is the reproduction: Enter at once, read until the
	// second prompt (the first one and the answer to Enter), send the
	// command without a newline, wait for its echo, then Enter.
	Paramiko Pattern = "paramiko"
	// ReturnInProbe sends the first Enter at a random instant within
	// ProbeWindow of the shell request (inside the relay's 500 ms terminal
	// probe, at its deadline, or while the shell child starts), then goes
	// on as Paramiko.
	ReturnInProbe Pattern = "return-in-probe"
	// CommandAtPrompt sends Enter at once and the command within 1 ms of the
	// first prompt, before the answer to Enter (scrapli's get_prompt returns
	// on the first prompt it sees), then waits for the echo and sends Enter.
	CommandAtPrompt Pattern = "command-at-prompt"
)

// Patterns are all the patterns, in report order.
var Patterns = []Pattern{Paramiko, ReturnInProbe, CommandAtPrompt}

// Terms are the TERM values each pattern is run with.
var Terms = []string{"xterm", "vt100", "dumb"}

// ProbeWindow bounds ReturnInProbe's delay: the relay's 500 ms probe plus
// the time the line-mode shell takes to start.
const ProbeWindow = 600 * time.Millisecond

// Options is one session.
type Options struct {
	Pattern Pattern
	Term    string
	Prompt  string // e.g. "<netdevd>"
	Command string // sent without a newline first, e.g. "screen-length disable"
	// Wait bounds each wait for output (a client's operation timeout).
	Wait time.Duration
	// Rand picks ReturnInProbe's delay (nil: the global source).
	Rand *rand.Rand
}

// ErrLost wraps every failure of the protocol itself (as opposed to the
// SSH connection): the command did not get through.
var ErrLost = errors.New("command lost")

// Run runs one session on c. It returns nil when the command was echoed
// right after a prompt on a line of its own and ran without an error
// message, an error wrapping ErrLost (with the transcript) when it did not,
// and another error when the session could not be opened.
func Run(ctx context.Context, c *gossh.Client, o Options) error {
	if o.Wait <= 0 {
		o.Wait = 10 * time.Second
	}
	s, err := open(c, o.Term)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.run(ctx, o); err != nil {
		return fmt.Errorf("%w: %s %s: %v; transcript %q", ErrLost, o.Pattern, o.Term, err, s.transcript())
	}
	return nil
}

// session is one PTY shell session and what it printed.
type session struct {
	sess *gossh.Session
	in   io.WriteCloser

	mu     sync.Mutex
	raw    bytes.Buffer
	more   chan struct{} // a signal per read
	closed chan struct{} // the output ended
}

func open(c *gossh.Client, term string) (*session, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	s := &session{sess: sess, more: make(chan struct{}, 1), closed: make(chan struct{})}
	if err := sess.RequestPty(term, 24, 80, gossh.TerminalModes{}); err != nil {
		sess.Close()
		return nil, err
	}
	if s.in, err = sess.StdinPipe(); err != nil {
		sess.Close()
		return nil, err
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.Shell(); err != nil {
		sess.Close()
		return nil, err
	}
	go s.read(out)
	return s, nil
}

func (s *session) read(out io.Reader) {
	defer close(s.closed)
	buf := make([]byte, 4096)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.raw.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.more <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *session) close() {
	s.sess.Close()
	<-s.closed
}

func (s *session) transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

func (s *session) send(text string) error {
	_, err := io.WriteString(s.in, text)
	return err
}

// text is the output as a scraper sees it: escape sequences and CRs gone.
func (s *session) text() string {
	return Clean(s.transcript())
}

var escapes = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])`)

// Clean removes escape sequences and CRs, as scrapli and Netmiko do before
// matching.
func Clean(raw string) string {
	return strings.ReplaceAll(escapes.ReplaceAllString(raw, ""), "\r", "")
}

// PromptLines counts the lines of text that are the prompt alone (trailing
// blanks allowed): what `^<name>\s*$` in multi-line mode finds.
func PromptLines(text, prompt string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimRight(l, " \t") == prompt {
			n++
		}
	}
	return n
}

// waitUntil waits until cond holds for the cleaned output.
func (s *session) waitUntil(ctx context.Context, d time.Duration, what string, cond func(string) bool) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		if cond(s.text()) {
			return nil
		}
		select {
		case <-s.more:
		case <-s.closed:
			if cond(s.text()) {
				return nil
			}
			return fmt.Errorf("session ended before %s", what)
		case <-t.C:
			return fmt.Errorf("no %s within %v", what, d)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *session) run(ctx context.Context, o Options) error {
	firstPrompts := 2
	switch o.Pattern {
	case Paramiko:
	case ReturnInProbe:
		var delay time.Duration
		if o.Rand != nil {
			delay = time.Duration(o.Rand.Int64N(int64(ProbeWindow)))
		} else {
			delay = rand.N(ProbeWindow)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	case CommandAtPrompt:
		firstPrompts = 1
	default:
		return fmt.Errorf("unknown pattern %q", o.Pattern)
	}
	if err := s.send("\n"); err != nil {
		return err
	}
	what := fmt.Sprintf("%d prompt line(s)", firstPrompts)
	if err := s.waitUntil(ctx, o.Wait, what, func(t string) bool {
		return PromptLines(t, o.Prompt) >= firstPrompts
	}); err != nil {
		return err
	}
	if err := s.send(o.Command); err != nil {
		return err
	}
	// The echo belongs right after a prompt that starts its line.
	echo := "\n" + o.Prompt + o.Command
	if err := s.waitUntil(ctx, o.Wait, "echo after a prompt", func(t string) bool {
		return strings.Contains("\n"+t, echo)
	}); err != nil {
		return err
	}
	if err := s.send("\n"); err != nil {
		return err
	}
	var answer string
	if err := s.waitUntil(ctx, o.Wait, "prompt after the command", func(t string) bool {
		i := strings.LastIndex("\n"+t, echo)
		answer = t[i-1+len(echo):]
		return strings.HasPrefix(answer, "\n") && PromptLines(answer, o.Prompt) >= 1
	}); err != nil {
		return err
	}
	if strings.Contains(answer, "% ") {
		return fmt.Errorf("the command failed: %q", answer)
	}
	if err := s.send("quit\n"); err != nil {
		return err
	}
	return s.waitUntil(ctx, o.Wait, "end of session after quit", func(string) bool {
		select {
		case <-s.closed:
			return true
		default:
			return false
		}
	})
}

// Lanes runs every pattern in a lane of its own, side by side: perTerm
// sessions per TERM, one after the other, on one connection per lane
// (dial). base gives the prompt, command and wait. It returns how many
// sessions ran and the error of each one that failed.
func Lanes(ctx context.Context, dial func() (*gossh.Client, error), base Options, perTerm int) (ran int, failed []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range Patterns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial()
			if err != nil {
				mu.Lock()
				failed = append(failed, fmt.Errorf("%s: dial: %w", p, err))
				mu.Unlock()
				return
			}
			defer c.Close()
			o := base
			o.Pattern, o.Rand = p, rand.New(rand.NewPCG(uint64(i), 11))
			for n := range perTerm * len(Terms) {
				o.Term = Terms[n%len(Terms)]
				err := Run(ctx, c, o)
				mu.Lock()
				ran++
				if err != nil {
					failed = append(failed, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ran, failed
}

package shell

// Live log lines (`terminal monitor`): lines that arrive while the session
// waits at its prompt are printed at once, above a fresh prompt; lines that
// arrive while a command runs (its output, the pager, a dialogue) wait and
// are printed before the next prompt, so they never cut into output.

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxQueuedLogs bounds the lines held while a command runs; the oldest go.
const maxQueuedLogs = 1000

// logQueue holds the lines not yet shown.
type logQueue struct {
	lines []string
}

func (q *logQueue) push(line string) {
	if len(q.lines) >= maxQueuedLogs {
		q.lines = q.lines[1:]
	}
	q.lines = append(q.lines, line)
}

func (q *logQueue) take() []string {
	l := q.lines
	q.lines = nil
	return l
}

// feedLogs calls show for each line of logs until logs closes or done.
func feedLogs(ctx context.Context, logs <-chan string, done <-chan struct{}, show func(string)) {
	if logs == nil {
		return
	}
	go func() {
		for {
			select {
			case line, ok := <-logs:
				if !ok {
					return
				}
				show(line)
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
}

// lineMonitor is the line-mode side: no escape sequences, so a line that
// arrives at the prompt is printed on a line of its own, then the prompt
// is printed again with what was typed but not entered, as the device
// redraws it; Enter still enters it.
type lineMonitor struct {
	mu       sync.Mutex
	out      *trackWriter
	atPrompt bool
	prompt   string // the prompt and any pending text (after a `?`)
	typed    []byte // the echo written since the prompt
	queue    logQueue
	closed   bool
}

// show prints line now if the session waits at its prompt, else queues it.
func (m *lineMonitor) show(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
	case m.atPrompt:
		m.out.WriteString("\n" + line + "\n" + m.prompt + typedText(m.typed))
	default:
		m.queue.push(line)
	}
}

// showPrompt starts a prompt: the queued lines, then the prompt.
func (m *lineMonitor) showPrompt(prompt string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.out.lineStart()
	for _, l := range m.queue.take() {
		m.out.WriteString(l + "\n")
	}
	m.out.WriteString(prompt)
	m.prompt, m.atPrompt = prompt, true
	m.typed = m.typed[:0]
}

// echo writes the echo of typed keys (line mode on a terminal); under the
// lock, so that it never cuts into a log line printed at the prompt.
func (m *lineMonitor) echo(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.out.Write(b)
	if !m.atPrompt {
		return
	}
	m.typed = append(m.typed, b...)
	if bytes.HasSuffix(b, []byte("\n")) || bytes.HasSuffix(b, []byte("^C")) || bytes.HasSuffix(b, []byte("^Z")) {
		// The line has ended: lines from now wait for the next prompt.
		m.atPrompt = false
	}
}

// typedText is what an echo leaves on the screen: its text, less what
// its erasures ("\b \b", one character each) took back.
func typedText(echo []byte) string {
	var out []rune
	for s := string(echo); s != ""; {
		if strings.HasPrefix(s, "\b \b") {
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			s = s[3:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		out = append(out, r)
		s = s[n:]
	}
	return string(out)
}

// leavePrompt: a line was read; output belongs to the command now.
func (m *lineMonitor) leavePrompt() {
	m.mu.Lock()
	m.atPrompt = false
	m.mu.Unlock()
}

func (m *lineMonitor) close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

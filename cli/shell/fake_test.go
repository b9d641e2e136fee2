package shell

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// fakeEngine is a tiny grammar: views user `<dev>` and system `[dev]`;
// commands display version|big, system-view, return, quit. Every line it
// runs is recorded, and echoed as EXEC[line] for the tests to see.
type fakeEngine struct {
	mu     sync.Mutex
	system bool
	ended  bool
	lines  []string
	keys   []byte // keys the pager read
}

func (f *fakeEngine) Prompt(context.Context) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.system {
		return "[dev]"
	}
	return "<dev>"
}

func (f *fakeEngine) Ended() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ended
}

func (f *fakeEngine) Lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

func (f *fakeEngine) Execute(ctx context.Context, line string, t Terminal) bool {
	f.mu.Lock()
	f.lines = append(f.lines, line)
	f.mu.Unlock()
	fmt.Fprintf(t, "EXEC[%s]\n", line)
	w := strings.Fields(strings.ToLower(line))
	switch {
	case len(w) == 2 && strings.HasPrefix("display", w[0]) && strings.HasPrefix("version", w[1]):
		fmt.Fprint(t, "Fake 1.0\n")
	case len(w) == 2 && strings.HasPrefix("display", w[0]) && strings.HasPrefix("big", w[1]):
		f.pager(t, 60)
	case len(w) == 1 && strings.HasPrefix("system-view", w[0]):
		f.mu.Lock()
		f.system = true
		f.mu.Unlock()
		fmt.Fprint(t, "System View: return to User View with Ctrl+Z.\n")
	case len(w) == 1 && w[0] == "return":
		f.mu.Lock()
		f.system = false
		f.mu.Unlock()
	case len(w) == 1 && w[0] == "quit":
		f.mu.Lock()
		if f.system {
			f.system = false
		} else {
			f.ended = true
		}
		f.mu.Unlock()
	case len(w) == 1 && w[0] == "ask":
		ans, err := t.ReadLine("Are you sure? [Y/N]:")
		fmt.Fprintf(t, "ANSWER[%s] err=%v\n", ans, err)
	case len(w) == 1 && w[0] == "secret":
		ans, err := t.ReadSecret("Password:")
		fmt.Fprintf(t, "SECRET[%s] err=%v\n", ans, err)
	case len(w) == 1 && w[0] == "sleep":
		time.Sleep(time.Second)
	case len(w) == 1 && w[0] == "wait": // until broken, as a long ping
		fmt.Fprint(t, "WAITING\n")
		<-ctx.Done()
		fmt.Fprint(t, "BROKEN\n")
	case len(w) == 1 && w[0] == "noeol":
		fmt.Fprint(t, "no newline")
	default:
		fmt.Fprint(t, " % Unrecognized command found at '^' position.\n")
		return false
	}
	return true
}

// pager prints n numbered lines, pausing every Rows()-1 lines.
func (f *fakeEngine) pager(t Terminal, n int) {
	page := t.Rows() - 1
	shown := 0
	for i := 1; i <= n; i++ {
		if page > 0 && shown == page {
			fmt.Fprint(t, "  ---- More ----")
			k, err := t.ReadKey()
			f.mu.Lock()
			f.keys = append(f.keys, k)
			f.mu.Unlock()
			fmt.Fprint(t, "\r                \r")
			if err != nil || k == 'q' || k == 3 {
				return
			}
			if k == ' ' {
				shown = 0
			} else {
				shown = page - 1
			}
		}
		fmt.Fprintf(t, "line %d\n", i)
		shown++
	}
}

func (f *fakeEngine) Help(_ context.Context, line string) string {
	return "HELP[" + line + "]\n  version  Version\n"
}

var fakeWords = [][]string{
	{"display", "quit", "return", "system-view"},
	{"big", "version"},
}

func (f *fakeEngine) Complete(line string) []string {
	words := strings.Fields(line)
	partial := ""
	if !strings.HasSuffix(line, " ") && len(words) > 0 {
		partial = words[len(words)-1]
		words = words[:len(words)-1]
	}
	if len(words) >= len(fakeWords) {
		return nil
	}
	var out []string
	for _, k := range fakeWords[len(words)] {
		if strings.HasPrefix(k, strings.ToLower(partial)) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

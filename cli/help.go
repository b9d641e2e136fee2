package cli

import (
	"context"
	"sort"
	"strings"
)

// helpEntry is one line of `?` output.
type helpEntry struct {
	token string
	desc  string
}

const crToken = "<cr>"

// Help is the `?` output for line as typed so far (without the `?`): the
// view's commands under a header for an empty line, the next words after a
// space, the keywords starting with a partly typed word otherwise. A line
// that is wrong before the `?` gets its error lines instead.
func (s *Session) Help(ctx context.Context, line string) string {
	g := grammarOf(s.view.kind)
	toks, partial := splitPartial(line)
	if len(toks) == 0 && partial == nil {
		return g.header + "\n" + formatHelp(helpEntries(g.root, nil))
	}
	w, err := walk(g.root, toks)
	if err != nil {
		return err.render(len(s.Prompt(ctx)))
	}
	if w.pipe >= 0 {
		_, st, err := parseOutput(line, w.toks[w.pipe:])
		if err != nil {
			return err.render(len(s.Prompt(ctx)))
		}
		entries := outputHelp(st, partial)
		if len(entries) == 0 {
			return syntaxError(errUnrecognized, partial.pos).render(len(s.Prompt(ctx)))
		}
		return formatHelp(entries)
	}
	entries := helpEntries(w.at, partial)
	if len(entries) == 0 {
		return syntaxError(errUnrecognized, partial.pos).render(len(s.Prompt(ctx)))
	}
	return formatHelp(entries)
}

// splitPartial separates the word being typed (no space after it yet)
// from the complete words before it.
func splitPartial(line string) ([]token, *token) {
	toks := tokenize(line)
	if len(toks) == 0 || strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
		return toks, nil
	}
	last := toks[len(toks)-1]
	return toks[:len(toks)-1], &last
}

// helpEntries lists what may follow at n: keywords (starting with the
// partial word, if any), values it could become, `>`, `>>` and `|` after a
// display command, and <cr> when the command is complete here.
func helpEntries(n *node, partial *token) []helpEntry {
	prefix := ""
	if partial != nil {
		prefix = strings.ToLower(partial.text)
	}
	var entries []helpEntry
	for _, c := range n.next {
		switch {
		case c.hidden:
		case c.keyword != "" && strings.HasPrefix(strings.ToLower(c.keyword), prefix):
			entries = append(entries, helpEntry{c.keyword, c.help})
		case c.value != nil && (partial == nil || c.value.couldStart(partial.text)):
			entries = append(entries, helpEntry{c.value.label, c.help})
		}
	}
	if n.run != nil && n.filter {
		entries = append(entries, modifierHelp(partial)...)
	}
	sortHelp(entries)
	if n.run != nil && partial == nil {
		entries = append(entries, helpEntry{token: crToken})
	}
	return entries
}

// sortHelp puts help lines in ASCII order of their tokens.
func sortHelp(entries []helpEntry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].token < entries[j].token })
}

// formatHelp: two spaces, the token padded to the longest token + 2, the
// description; every line ends with a newline.
func formatHelp(entries []helpEntry) string {
	width := 0
	for _, e := range entries {
		if e.desc != "" { // <cr> stands alone and does not widen the column
			width = max(width, len(e.token))
		}
	}
	var b strings.Builder
	for _, e := range entries {
		if e.desc == "" {
			b.WriteString("  " + e.token + "\n")
			continue
		}
		b.WriteString("  " + e.token + strings.Repeat(" ", width+2-len(e.token)) + e.desc + "\n")
	}
	return b.String()
}

// Complete returns the keywords that may replace the last, partly typed
// word of line (all next keywords when line ends with a space). Values are
// not offered: there is nothing to complete them from.
func (s *Session) Complete(line string) []string {
	toks, partial := splitPartial(line)
	w, err := walk(grammarOf(s.view.kind).root, toks)
	if err != nil {
		return nil
	}
	at := w.at
	if w.pipe >= 0 {
		_, st, err := parseOutput(line, w.toks[w.pipe:])
		if at = outputCompletions(st); err != nil || at == nil { // an expression or a file name: nothing to offer
			return nil
		}
	}
	prefix := ""
	if partial != nil {
		prefix = strings.ToLower(partial.text)
	}
	var out []string
	for _, c := range at.keywords() {
		if strings.HasPrefix(strings.ToLower(c.keyword), prefix) {
			out = append(out, c.keyword)
		}
	}
	sort.Strings(out)
	return out
}

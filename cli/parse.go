package cli

import (
	"regexp"
	"slices"
	"strings"
)

// parsed is a typed line resolved to a command.
type parsed struct {
	cmd     *node
	args    map[string]token // value words as typed; keywords in their canonical form
	filter  *outputFilter
	history string // the line as history keeps it: secrets masked
}

// walkResult is where a walk over words stopped.
type walkResult struct {
	at      *node
	args    map[string]token
	secrets []token
	pipe    int // index in toks of a `|` that starts an output filter, or -1
	toks    []token
	resume  *node // after an option's value, the rest of its `many` list
}

// walk resolves toks from root as far as they go. A `|` after a complete
// display command stops the walk (pipe is set).
func walk(root *node, toks []token) (walkResult, *cliError) {
	w := walkResult{at: root, args: map[string]token{}, pipe: -1}
	toks = slices.Clone(toks)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.text == "|" && w.at.run != nil && w.at.filter {
			w.pipe = i
			break
		}
		next, kind := w.at.matchWord(t.text)
		if kind == matchNone {
			if split, ok := w.at.splitGlued(t); ok {
				toks = slices.Replace(toks, i, i+1, split...)
				i--
				continue
			}
		}
		if err := matchError(w.at, kind, t); err != nil {
			w.toks = toks
			return w, err
		}
		if next.rest {
			t.text = joinWords(toks[i:])
			toks = append(toks[:i], t)
		}
		from := w.at
		w.record(next, t)
		switch {
		case from.many && next.option:
			w.resume = from.remaining(next)
		case from.many && next.keyword != "":
			w.at = from.remaining(next)
		case from.option && w.resume != nil:
			w.at, w.resume = w.resume, nil
		}
	}
	w.toks = toks
	return w, nil
}

// joinWords joins the words of toks with one space.
func joinWords(toks []token) string {
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.text
	}
	return strings.Join(words, " ")
}

// record moves the walk to n after word t matched it.
func (w *walkResult) record(n *node, t token) {
	if n.name != "" {
		stored := t
		if n.keyword != "" {
			stored.text = n.keyword
		}
		if prev, ok := w.args[n.name]; ok && w.at.many {
			stored = token{prev.text + " " + stored.text, prev.pos}
		}
		w.args[n.name] = stored
	}
	if n.secret {
		w.secrets = append(w.secrets, t)
	}
	w.at = n
}

// matchError is the error for a word that did not select exactly one child.
func matchError(at *node, kind matchKind, t token) *cliError {
	switch kind {
	case matchOne:
		return nil
	case matchAmbiguous:
		return syntaxError(errAmbiguous, t.pos)
	case matchBadValue:
		return syntaxError(errWrongParameter, t.pos)
	}
	if len(at.next) == 0 {
		return syntaxError(errTooMany, t.pos)
	}
	return syntaxError(errUnrecognized, t.pos)
}

// parse resolves a whole line. It returns nil, nil for a blank line.
func parse(root *node, line string) (*parsed, *cliError) {
	toks := tokenize(line)
	if len(toks) == 0 {
		return nil, nil
	}
	w, err := walk(root, toks)
	if err != nil {
		return nil, err
	}
	if w.at.run == nil {
		return nil, syntaxError(errIncomplete, len(strings.TrimRight(line, " \t")))
	}
	p := &parsed{cmd: w.at, args: w.args, history: maskSecrets(line, w.secrets)}
	if w.pipe >= 0 {
		f, err := parseFilter(line, w.toks[w.pipe+1:])
		if err != nil {
			return nil, err
		}
		p.filter = f
	}
	return p, nil
}

// maskSecrets returns the line as typed (trimmed) with the secret words
// (passwords, unbinding codes) masked, so that history never holds them.
func maskSecrets(line string, secrets []token) string {
	for i := len(secrets) - 1; i >= 0; i-- {
		sec := secrets[i]
		line = line[:sec.pos] + "******" + line[sec.pos+len(sec.text):]
	}
	return strings.TrimSpace(line)
}

// outputFilter is `| include|exclude|begin REGEX` after a display command.
type outputFilter struct {
	mode string // include, exclude, begin
	re   *regexp.Regexp
}

var filterModes = kw("|", "Matching output",
	kw("begin", "Display the first line that matches the specified regular expression"),
	kw("exclude", "Display the lines that do not match the specified regular expression"),
	kw("include", "Display the lines that match the specified regular expression"),
)

// parseFilter reads the words after `|`. The regular expression is the rest
// of the line as typed, spaces included.
func parseFilter(line string, toks []token) (*outputFilter, *cliError) {
	if len(toks) == 0 {
		return nil, syntaxError(errIncomplete, len(strings.TrimRight(line, " \t")))
	}
	mode, kind := filterModes.matchWord(toks[0].text)
	if err := matchError(filterModes, kind, toks[0]); err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, syntaxError(errIncomplete, len(strings.TrimRight(line, " \t")))
	}
	expr := strings.TrimRight(line[toks[1].pos:], " \t")
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, syntaxError(errWrongParameter, toks[1].pos)
	}
	return &outputFilter{mode: mode.keyword, re: re}, nil
}

// apply keeps the lines of text the filter selects.
func (f *outputFilter) apply(text string) string {
	if f == nil || text == "" {
		return text
	}
	var b strings.Builder
	begun := false
	for _, line := range strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n") {
		bare := strings.TrimSuffix(line, "\n")
		match := f.re.MatchString(bare)
		keep := false
		switch f.mode {
		case "include":
			keep = match
		case "exclude":
			keep = !match
		case "begin":
			begun = begun || match
			keep = begun
		}
		if keep {
			b.WriteString(bare + "\n")
		}
	}
	return b.String()
}

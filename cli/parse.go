package cli

import (
	"slices"
	"strings"
)

// parsed is a typed line resolved to a command.
type parsed struct {
	cmd     *node
	args    map[string]token // value words as typed; keywords in their canonical form
	output  *outputSpec      // filters and redirection of a display command (output.go)
	history string           // the line as history keeps it: secrets masked
}

// walkResult is where a walk over words stopped.
type walkResult struct {
	at      *node
	args    map[string]token
	secrets []token
	pipe    int // index in toks of the `|`, `>` or `>>` after a complete display command, or -1
	toks    []token
	resume  *node // after an option's value, the rest of its `many` list
}

// walk resolves toks from root as far as they go. An output modifier
// after a complete display command stops the walk (pipe is set).
func walk(root *node, toks []token) (walkResult, *cliError) {
	w := walkResult{at: root, args: map[string]token{}, pipe: -1}
	toks = slices.Clone(toks)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if isModifier(t) && w.at.run != nil && w.at.filter {
			w.pipe = i
			break
		}
		next, kind := w.at.matchToken(t)
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
			last := toks[len(toks)-1]
			t = token{text: joinWords(toks[i:]), pos: t.pos, span: last.pos + last.span - t.pos}
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

// matchToken is matchWord for a typed word; a quoted word is always a
// value, never a keyword.
func (n *node) matchToken(t token) (*node, matchKind) {
	if t.quoted {
		return n.matchValue(t.text)
	}
	return n.matchWord(t.text)
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
			stored = token{text: prev.text + " " + stored.text, pos: prev.pos, span: stored.pos + stored.span - prev.pos}
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
	incomplete := syntaxError(errIncomplete, len(strings.TrimRight(line, " \t")))
	if w.at.run == nil {
		return nil, incomplete
	}
	p := &parsed{cmd: w.at, args: w.args, history: maskSecrets(line, w.secrets)}
	if w.pipe >= 0 {
		out, st, err := parseOutput(line, w.toks[w.pipe:])
		if err != nil {
			return nil, err
		}
		if !st.complete() {
			return nil, incomplete
		}
		p.output = out
	}
	return p, nil
}

// maskSecrets returns the line as typed (trimmed) with the secret words
// (passwords, unbinding codes) masked, so that history never holds them.
func maskSecrets(line string, secrets []token) string {
	for i := len(secrets) - 1; i >= 0; i-- {
		sec := secrets[i]
		line = line[:sec.pos] + "******" + line[sec.pos+sec.span:]
	}
	return strings.TrimSpace(line)
}

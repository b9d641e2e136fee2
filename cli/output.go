package cli

import (
	"fmt"
	"regexp"
	"strings"
)

// What may follow a display command (Comware 7):
//
//	display … [ | [ by-linenum ] { begin | exclude | include } REGEX ]… [ > FILE | >> FILE ]
//	display … | by-linenum [ > FILE | >> FILE ]
//
// Filters chain: each `|` starts one, applied in order to what the one
// before kept. A word that is `|`, `>` or `>>` on its own always ends the
// regular expression before it (write an alternation without spaces:
// `ssh|telnet`). `by-linenum` anywhere numbers the lines as the command
// printed them. `> FILE` writes the result to a file on flash: instead of
// the terminal, `>> FILE` appends to it.

// outputSpec is the filters and the redirection of one display line.
type outputSpec struct {
	filters  []outputFilter
	numbered bool
	redirect *redirection
}

// outputFilter is one `| [by-linenum] begin|exclude|include REGEX`; mode
// is "" for a bare `| by-linenum`.
type outputFilter struct {
	mode string
	re   *regexp.Regexp
}

// redirection is `> FILE` or `>> FILE`.
type redirection struct {
	file     string // as typed, `flash:/` prefix removed
	appendTo bool
}

// redirects reports whether the output goes to a file.
func (o *outputSpec) redirects() bool { return o != nil && o.redirect != nil }

// outState is what the next word after a modifier may be.
type outState int

const (
	outMode      outState = iota // after `|`: by-linenum, begin, exclude, include
	outModeOrEnd                 // after `| by-linenum`: a mode, another modifier, or the end
	outRegex                     // after a mode: the regular expression
	outMore                      // inside a regular expression: more of it, a modifier, or the end
	outFile                      // after `>`/`>>`: the file name
	outDone                      // after the file name: the end
)

// complete reports whether a line may end in state st.
func (st outState) complete() bool { return st == outModeOrEnd || st == outMore || st == outDone }

// maxRegexLen is Comware's limit on a filter's regular expression.
const maxRegexLen = 256

var (
	byLinenum   = kw("by-linenum", "Display the number of each line")
	filterModes = kw("|", "Matching output",
		byLinenum,
		kw("begin", "Display the first line that matches the specified regular expression"),
		kw("exclude", "Display the lines that do not match the specified regular expression"),
		kw("include", "Display the lines that match the specified regular expression"),
	)
	// afterLinenum is what `| by-linenum` may be followed by.
	afterLinenum = &node{next: filterModes.next[1:]}
	redirectOut  = kw(">", "Redirect it to a file")
	redirectApp  = kw(">>", "Redirect it to a file in append mode")
	fileValue    = text(1, 255, validFlashFileName)
)

// isModifier reports whether t starts a filter or a redirection.
func isModifier(t token) bool {
	return !t.quoted && (t.text == "|" || t.text == ">" || t.text == ">>")
}

// outputParser reads the modifiers of one line.
type outputParser struct {
	line  string
	spec  outputSpec
	state outState
	mode  string // the mode whose expression is being read
	expr  []token
}

// parseOutput reads toks, the words from the first modifier on. The state
// says what could come next; a line is complete only in a complete state
// (help and completion read unfinished lines).
func parseOutput(line string, toks []token) (*outputSpec, outState, *cliError) {
	p := &outputParser{line: line, state: outMore} // toks[0] is a modifier
	for _, t := range toks {
		if err := p.word(t); err != nil {
			return nil, p.state, err
		}
	}
	if err := p.endExpr(); err != nil {
		return nil, p.state, err
	}
	return &p.spec, p.state, nil
}

// word takes the next word.
func (p *outputParser) word(t token) *cliError {
	switch p.state {
	case outMode, outModeOrEnd:
		if p.state == outModeOrEnd && isModifier(t) {
			return p.modifier(t)
		}
		modes := filterModes
		if p.state == outModeOrEnd {
			modes = afterLinenum
		}
		n, kind := modes.matchWord(t.text)
		if t.quoted {
			n, kind = nil, matchNone
		}
		if err := matchError(modes, kind, t); err != nil {
			return err
		}
		if n == byLinenum {
			p.spec.numbered = true
			p.state = outModeOrEnd
			p.spec.filters = append(p.spec.filters, outputFilter{})
			return nil
		}
		if p.state == outModeOrEnd { // `| by-linenum include …`: one filter
			p.spec.filters = p.spec.filters[:len(p.spec.filters)-1]
		}
		p.mode, p.state = n.keyword, outRegex
	case outRegex:
		if isModifier(t) {
			return syntaxError(errIncomplete, t.pos)
		}
		p.expr, p.state = []token{t}, outMore
	case outMore:
		if isModifier(t) {
			if err := p.endExpr(); err != nil {
				return err
			}
			return p.modifier(t)
		}
		p.expr = append(p.expr, t)
	case outFile:
		if !fileValue.accepts(t.text) {
			return syntaxError(errWrongParameter, t.pos)
		}
		p.spec.redirect.file = bareFileName(t.text)
		p.state = outDone
	default:
		return syntaxError(errTooMany, t.pos)
	}
	return nil
}

// modifier starts a filter (`|`) or a redirection (`>`, `>>`).
func (p *outputParser) modifier(t token) *cliError {
	switch {
	case p.spec.redirect != nil:
		return syntaxError(errTooMany, t.pos)
	case t.text == "|":
		p.state = outMode
	default:
		p.spec.redirect = &redirection{appendTo: t.text == ">>"}
		p.state = outFile
	}
	return nil
}

// endExpr closes the regular expression being read: the words as typed,
// spaces between them included.
func (p *outputParser) endExpr() *cliError {
	if len(p.expr) == 0 {
		return nil
	}
	first, last := p.expr[0], p.expr[len(p.expr)-1]
	expr := p.line[first.pos : last.pos+last.span]
	if len(p.expr) == 1 && first.quoted {
		expr = first.text
	}
	p.expr = nil
	re, err := regexp.Compile(expr)
	if err != nil || len(expr) > maxRegexLen {
		return syntaxError(errWrongParameter, first.pos)
	}
	p.spec.filters = append(p.spec.filters, outputFilter{mode: p.mode, re: re})
	return nil
}

// outLine is one line of output on its way through the filters: its
// number in the command's output and whether a `begin` filter let it
// through without matching (Comware marks those with `-`).
type outLine struct {
	n     int
	text  string
	after bool
}

// apply runs the filters over text and numbers the lines when asked.
func (o *outputSpec) apply(text string) string {
	if o == nil || text == "" {
		return text
	}
	var lines []outLine
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lines = append(lines, outLine{n: i + 1, text: l})
	}
	for _, f := range o.filters {
		lines = f.keep(lines)
	}
	var b strings.Builder
	for _, l := range lines {
		if o.numbered {
			mark := ':'
			if l.after {
				mark = '-'
			}
			fmt.Fprintf(&b, "%5d%c  ", l.n, mark)
		}
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

// keep is the lines one filter lets through.
func (f outputFilter) keep(lines []outLine) []outLine {
	if f.mode == "" {
		return lines
	}
	var out []outLine
	begun := false
	for _, l := range lines {
		match := f.re.MatchString(l.text)
		switch f.mode {
		case "include":
			if match {
				out = append(out, l)
			}
		case "exclude":
			if !match {
				out = append(out, l)
			}
		case "begin":
			begun = begun || match
			if begun {
				l.after = !match
				out = append(out, l)
			}
		}
	}
	return out
}

// flashFileName is a file in flash:'s top directory that a display may
// be redirected to: letters, digits, `_`, `-` and `.`, not starting with a
// dot (hidden files are the device's), at most 64 characters.
var flashFileName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$`)

// validFlashFileName accepts `name` or `flash:/name`.
func validFlashFileName(s string) bool { return flashFileName.MatchString(bareFileName(s)) }

// outputHelp is the `?` output after a modifier, in state st, for the
// partly typed word partial (nil after a space).
func outputHelp(st outState, partial *token) []helpEntry {
	var entries []helpEntry
	switch st {
	case outMode:
		entries = helpEntries(filterModes, partial)
	case outModeOrEnd:
		entries = helpEntries(afterLinenum, partial)
		entries = append(entries, modifierHelp(partial)...)
	case outRegex:
		return []helpEntry{{"TEXT", "Regular expression"}}
	case outMore:
		entries = modifierHelp(partial)
	case outFile:
		return []helpEntry{{fileValue.label, "Name of the file on flash:"}}
	}
	sortHelp(entries)
	if partial == nil && st.complete() {
		entries = append(entries, helpEntry{token: crToken})
	}
	return entries
}

// modifierHelp lists `>`, `>>` and `|` when the word being typed could be
// one of them.
func modifierHelp(partial *token) []helpEntry {
	var out []helpEntry
	for _, m := range []*node{redirectOut, redirectApp, filterModes} {
		if partial == nil || strings.HasPrefix(m.keyword, partial.text) {
			out = append(out, helpEntry{m.keyword, m.help})
		}
	}
	return out
}

// outputCompletions are the keywords Tab offers after a modifier.
func outputCompletions(st outState) *node {
	switch st {
	case outMode:
		return filterModes
	case outModeOrEnd:
		return afterLinenum
	}
	return nil
}

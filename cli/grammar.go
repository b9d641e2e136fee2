package cli

import (
	"slices"
	"strings"
)

// A node is one word position of the command tree: a keyword (matched
// case-insensitively, by any unique prefix) or a value (checked by its
// valueSpec). A command may end at a node when run is set. The trees are
// built once and never changed, so sessions share them.
type node struct {
	keyword string     // literal as shown in help; "" for a value node
	value   *valueSpec // set for value nodes
	help    string     // description shown by `?`
	name    string     // key under which the matched word is stored in args
	next    []*node

	// alias nodes are matched like keywords but never listed; matching one
	// continues at target (show → display).
	target *node
	hidden bool

	// splitNumber lets `Vlan-interface1` be typed as one word: the digits
	// glued to the keyword are taken as the following value.
	splitNumber bool

	run      handler // the command may end here
	operator bool    // network-operator may run the command ending here
	filter   bool    // a display command: `| include …` may follow
	secret   bool    // value never kept in history (shown as ******)
	rest     bool    // value takes the rest of the line (words joined by one space)

	// many marks a node whose keyword children form a Comware
	// `{ a | b | … } *` list: one or more of them, each at most once, in any
	// order. After a member the walk continues at the members not typed yet,
	// and the command may end there (the members' run). The members share
	// one name; the words are stored under it in the order typed, joined by
	// one space (invocation.words).
	many  bool
	taken []string // members of a `many` list typed already (never matched again)

	// option marks a keyword member of a `many` list that takes one value
	// (`ping -c COUNT`): the walk goes on to the value, then to the members
	// not typed yet. A value child of a `many` node (ping's HOST) ends the
	// list.
	option bool
}

// handler runs a parsed command.
type handler func(e *invocation) error

// token is one word of a typed line and its byte offset in that line. A
// word typed in double quotes (`sysname "my device"`) is one token whose
// text is what the quotes enclose; span is its length in the line, quotes
// included.
type token struct {
	text   string
	pos    int
	span   int
	quoted bool
}

// word is an unquoted token at pos.
func word(text string, pos int) token { return token{text: text, pos: pos, span: len(text)} }

// tokenize splits a line at spaces and tabs, keeping each word's offset so
// that the caret can point at it. A word that starts with `"` runs to the
// next `"` that ends a word (followed by a space, a tab or the end of the
// line), spaces included, as Comware reads quoted strings; a `"` with no
// such end is an ordinary character.
func tokenize(line string) []token {
	var toks []token
	for i := 0; i < len(line); {
		if isBlank(line[i]) {
			i++
			continue
		}
		if line[i] == '"' {
			if end := closingQuote(line, i+1); end >= 0 {
				toks = append(toks, token{text: line[i+1 : end], pos: i, span: end + 1 - i, quoted: true})
				i = end + 1
				continue
			}
		}
		start := i
		for i < len(line) && !isBlank(line[i]) {
			i++
		}
		toks = append(toks, word(line[start:i], start))
	}
	return toks
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// closingQuote is the index of the first `"` at or after from that ends a
// word, or -1.
func closingQuote(line string, from int) int {
	for j := from; j < len(line); j++ {
		if line[j] == '"' && (j+1 == len(line) || isBlank(line[j+1])) {
			return j
		}
	}
	return -1
}

// quoteValue is how a value is written back into a configuration line:
// in double quotes when it holds a space or starts with a quote, so that
// tokenize reads it back as one word (valueSpec refuses a value holding
// both a space and a quote, which no quoting could carry).
func quoteValue(v string) string {
	if strings.ContainsAny(v, " \t") || strings.HasPrefix(v, `"`) {
		return `"` + v + `"`
	}
	return v
}

// kw builds a keyword node.
func kw(word, help string, next ...*node) *node {
	return &node{keyword: word, help: help, next: next}
}

// val builds a value node stored in args under name.
func val(name string, spec *valueSpec, help string, next ...*node) *node {
	return &node{value: spec, name: name, help: help, next: next}
}

// alias builds a hidden keyword that continues at target.
func alias(word string, target *node) *node {
	return &node{keyword: word, target: target, hidden: true}
}

// does marks n as the end of a command run by h (admin only).
func (n *node) does(h handler) *node {
	n.run = h
	return n
}

// forAll lets network-operator run the command ending at n too.
func (n *node) forAll() *node {
	n.operator = true
	return n
}

// remaining is where a `many` list continues after member m was typed: the
// members not typed yet, and the end of the command.
func (n *node) remaining(m *node) *node {
	left := &node{many: true, run: m.run, operator: m.operator, taken: append(slices.Clip(n.taken), m.keyword)}
	for _, c := range n.next {
		if c != m {
			left.next = append(left.next, c)
		}
	}
	return left
}

// resolved follows an alias to the node it stands for.
func (n *node) resolved() *node {
	if n.target != nil {
		return n.target
	}
	return n
}

// matchKind says how a word matched the children of a node.
type matchKind int

const (
	matchNone matchKind = iota
	matchOne
	matchAmbiguous
	matchBadValue // a value was expected but the word is not a valid one
)

// matchWord finds the child of n that word selects. An exact keyword wins
// over prefixes; real keywords win over aliases; keywords win over values.
func (n *node) matchWord(word string) (*node, matchKind) {
	lower := strings.ToLower(word)
	// A list member typed again is refused, not read as a prefix of a
	// longer member (`mac sha1 sha1` is not `mac sha1 sha1-96`).
	if slices.ContainsFunc(n.taken, func(k string) bool { return strings.ToLower(k) == lower }) {
		return nil, matchNone
	}
	for _, c := range n.next {
		if c.keyword != "" && strings.ToLower(c.keyword) == lower {
			return c.resolved(), matchOne
		}
	}
	for _, hidden := range []bool{false, true} {
		var found []*node
		for _, c := range n.next {
			if c.keyword != "" && c.hidden == hidden && strings.HasPrefix(strings.ToLower(c.keyword), lower) {
				found = append(found, c)
			}
		}
		if len(found) == 1 {
			return found[0].resolved(), matchOne
		}
		if len(found) > 1 {
			return nil, matchAmbiguous
		}
	}
	return n.matchValue(word)
}

// matchValue tries the value children of n.
func (n *node) matchValue(word string) (*node, matchKind) {
	kind := matchNone
	for _, c := range n.next {
		if c.value == nil {
			continue
		}
		if c.value.accepts(word) {
			return c, matchOne
		}
		kind = matchBadValue
	}
	return nil, kind
}

// splitGlued splits a word like `Vlan-interface1` or `vlan1` into the
// keyword part and the number part when n has a splitNumber child that the
// keyword part selects.
func (n *node) splitGlued(t token) ([]token, bool) {
	i := len(t.text)
	for i > 0 && t.text[i-1] >= '0' && t.text[i-1] <= '9' {
		i--
	}
	if i == 0 || i == len(t.text) {
		return nil, false
	}
	c, kind := n.matchWord(t.text[:i])
	if kind != matchOne || !c.splitNumber {
		return nil, false
	}
	return []token{word(t.text[:i], t.pos), word(t.text[i:], t.pos+i)}, true
}

// keywords lists the visible keyword children of n.
func (n *node) keywords() []*node {
	var out []*node
	for _, c := range n.next {
		if c.keyword != "" && !c.hidden {
			out = append(out, c)
		}
	}
	return out
}

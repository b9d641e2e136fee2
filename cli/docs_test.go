package cli

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// docsPath is the command reference that must describe every command.
const docsPath = "../docs/commands.md"

// The reference marks up each command in a `###` section holding
//
//	- **View:** System view            (views as the `?` headers name them, or "Any view")
//	- **Roles:** network-admin         (network-operator too when it may run the command)
//
// and a fenced block tagged `syntax` with one Comware syntax line per form:
// `{ a | b }` one of, `[ a ]` optional, UPPERCASE words are values.

// grammarCommand is one runnable keyword path of a view's tree.
type grammarCommand struct {
	view   string   // "System view"
	words  []string // keywords in lower case, values as "VALUE"
	labels []string // the values' labels (<10-3600>, STRING<1-64>, …) in order
	shown  string   // the path as a reader knows it, values as their labels
	node   *node
}

// viewLabel is the view's name as its `?` header gives it.
func viewLabel(g viewGrammar) string { return strings.TrimSuffix(g.header, " commands:") }

// grammarCommands walks every view's tree: every keyword path that ends at
// a runnable node, undo forms included; aliases are left out (they continue
// at a command that is walked anyway).
func grammarCommands() []grammarCommand {
	gs := buildGrammars()
	kinds := make([]viewKind, 0, len(gs))
	for k := range gs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var out []grammarCommand
	for _, k := range kinds {
		view := viewLabel(gs[k])
		var visit func(n *node, words, labels, shown []string)
		visit = func(n *node, words, labels, shown []string) {
			for _, c := range n.next {
				if c.target != nil {
					continue
				}
				w, l, s := words, labels, shown
				if c.value != nil {
					w = append(slices.Clip(w), "VALUE")
					l = append(slices.Clip(l), c.value.label)
					s = append(slices.Clip(s), c.value.label)
				} else {
					w = append(slices.Clip(w), strings.ToLower(c.keyword))
					s = append(slices.Clip(s), c.keyword)
				}
				if c.run != nil {
					out = append(out, grammarCommand{view: view, words: w, labels: l, shown: strings.Join(s, " "), node: c})
				}
				visit(c, w, l, s)
			}
		}
		visit(gs[k].root, nil, nil, nil)
	}
	return out
}

// docSection is one `###` section of the reference.
type docSection struct {
	heading string
	line    int      // line number of the heading
	views   []string // from the View line, lower case
	roles   string   // the Roles line, lower case
	syntax  []docSyntax
	text    string
}

type docSyntax struct {
	line    int
	text    string
	paths   [][]string // every keyword path the line denotes
	heading bool       // a heading, which names a command without its values
}

// readDocs splits the reference into sections and expands their syntax lines.
func readDocs(t *testing.T) (string, []*docSection) {
	t.Helper()
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("the command reference: %v", err)
	}
	doc := string(raw)
	var sections []*docSection
	cur := &docSection{}
	inSyntax, inFence := false, false
	for i, line := range strings.Split(doc, "\n") {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			if inFence {
				inFence, inSyntax = false, false
			} else {
				inFence, inSyntax = true, strings.TrimPrefix(trimmed, "```") == "syntax"
			}
		case inSyntax && trimmed != "":
			paths, err := expandSyntax(trimmed)
			if err != nil {
				t.Errorf("%s:%d: syntax line %q: %v", docsPath, n, trimmed, err)
			}
			cur.syntax = append(cur.syntax, docSyntax{line: n, text: trimmed, paths: paths})
		case inFence:
		case strings.HasPrefix(line, "#"):
			cur = &docSection{heading: strings.TrimSpace(strings.TrimLeft(line, "#")), line: n}
			sections = append(sections, cur)
			// A heading that is a command in backquotes names that command.
			if h := cur.heading; strings.HasPrefix(h, "`") && strings.HasSuffix(h, "`") && strings.Count(h, "`") == 2 {
				if paths, err := expandSyntax(strings.Trim(h, "`")); err == nil {
					cur.syntax = append(cur.syntax, docSyntax{line: n, text: h, paths: paths, heading: true})
				}
			}
		default:
			field := strings.TrimPrefix(trimmed, "- ")
			if v, ok := strings.CutPrefix(field, "**View:**"); ok {
				for _, name := range strings.Split(v, ",") {
					cur.views = append(cur.views, strings.ToLower(strings.TrimSpace(name)))
				}
			}
			if r, ok := strings.CutPrefix(field, "**Roles:**"); ok {
				cur.roles = strings.ToLower(r)
			}
		}
		cur.text += line + "\n"
	}
	return doc, sections
}

// inView reports whether the section documents commands of view.
func (s *docSection) inView(view string) bool {
	return slices.Contains(s.views, "any view") || slices.Contains(s.views, strings.ToLower(view))
}

// expandSyntax turns one line of Comware syntax into the keyword paths it
// denotes: `{ a | b }` is one of, `[ a | b ]` is none or one of, `{ a | b } *`
// (one or more) stands for its one-member paths, a word with no lower-case
// letter is a value.
func expandSyntax(line string) ([][]string, error) {
	r := strings.NewReplacer("{", " { ", "}", " } ", "[", " [ ", "]", " ] ", "|", " | ")
	p := &syntaxParser{toks: strings.Fields(r.Replace(line))}
	paths := p.seq()
	if p.i != len(p.toks) || p.err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("unexpected %q", p.toks[p.i])
		}
		return nil, p.err
	}
	return paths, nil
}

type syntaxParser struct {
	toks []string
	i    int
	err  error
}

// seq: items up to a closing bracket, a `|` or the end; the cross product.
func (p *syntaxParser) seq() [][]string {
	paths := [][]string{{}}
	for p.i < len(p.toks) && p.err == nil {
		var alts [][]string
		switch tok := p.toks[p.i]; tok {
		case "}", "]", "|":
			return paths
		case "*":
			// `{ a | b } *`: one or more of, each once, in any order. The
			// commands the grammar walk yields are the one-member paths.
			if p.i == 0 || p.toks[p.i-1] != "}" {
				p.err = fmt.Errorf("%q not after %q", tok, "}")
				return nil
			}
			p.i++
			continue
		case "{", "[":
			p.i++
			alts = p.alternatives()
			want := map[string]string{"{": "}", "[": "]"}[tok]
			if p.i >= len(p.toks) || p.toks[p.i] != want {
				p.err = fmt.Errorf("%q without %q", tok, want)
				return nil
			}
			p.i++
			if tok == "[" {
				alts = append(alts, []string{})
			}
		default:
			p.i++
			word := strings.ToLower(tok)
			if strings.ToUpper(tok) == tok && word != tok {
				word = "VALUE"
			}
			alts = [][]string{{word}}
		}
		var next [][]string
		for _, head := range paths {
			for _, tail := range alts {
				next = append(next, append(slices.Clip(head), tail...))
			}
		}
		paths = next
	}
	return paths
}

// alternatives: seq ( `|` seq )*.
func (p *syntaxParser) alternatives() [][]string {
	alts := p.seq()
	for p.i < len(p.toks) && p.toks[p.i] == "|" && p.err == nil {
		p.i++
		alts = append(alts, p.seq()...)
	}
	return alts
}

// TestDocsCoverEveryCommand: every command of every view (each keyword path
// to a runnable node, undo forms included) has a syntax line or heading in
// docs/commands.md in a section for its view; that section gives the
// value ranges the grammar checks and says whether network-operator may run
// it; and every alias is mentioned.
func TestDocsCoverEveryCommand(t *testing.T) {
	doc, sections := readDocs(t)
	cmds := grammarCommands()
	if len(cmds) < 50 {
		t.Fatalf("the walk found only %d commands", len(cmds))
	}
	var missing []string
	for _, c := range cmds {
		var covering []*docSection
		for _, s := range sections {
			if !s.inView(c.view) {
				continue
			}
			for _, syn := range s.syntax {
				if slices.ContainsFunc(syn.paths, func(p []string) bool { return slices.Equal(p, c.words) }) {
					covering = append(covering, s)
					break
				}
			}
		}
		if len(covering) == 0 {
			missing = append(missing, fmt.Sprintf("%s: %s", c.view, c.shown))
			continue
		}
		for _, s := range covering {
			for _, label := range c.labels {
				if !strings.Contains(s.text, label) {
					t.Errorf("%s:%d (%s): %s: the range %s is not given", docsPath, s.line, s.heading, c.shown, label)
				}
			}
			switch {
			case !strings.Contains(s.roles, "network-admin"):
				t.Errorf("%s:%d (%s): no **Roles:** line naming network-admin", docsPath, s.line, s.heading)
			case c.node.operator != strings.Contains(s.roles, "network-operator"):
				t.Errorf("%s:%d (%s): %s: network-operator may run it: %v; the Roles line says %q",
					docsPath, s.line, s.heading, c.shown, c.node.operator, strings.TrimSpace(s.roles))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("not in %s: %s", docsPath, m)
	}
	for _, g := range buildGrammars() {
		for _, c := range g.root.next {
			if c.target != nil && !strings.Contains(doc, "`"+c.keyword+"`") {
				t.Errorf("the alias %s (%s) is not in %s", c.keyword, viewLabel(g), docsPath)
			}
		}
	}
}

// TestDocsSyntaxIsGrammar is the other direction: every path a syntax line
// of the reference denotes is a command of each view its section names, so
// the reference documents nothing the device would refuse.
func TestDocsSyntaxIsGrammar(t *testing.T) {
	_, sections := readDocs(t)
	byView := map[string][][]string{}
	for _, c := range grammarCommands() {
		byView[strings.ToLower(c.view)] = append(byView[strings.ToLower(c.view)], c.words)
	}
	for _, s := range sections {
		if len(s.syntax) > 0 && len(s.views) == 0 {
			t.Errorf("%s:%d (%s): syntax without a **View:** line", docsPath, s.line, s.heading)
		}
		for _, view := range s.views {
			views := []string{view}
			if view == "any view" {
				views = views[:0]
				for v := range byView {
					views = append(views, v)
				}
			} else if byView[view] == nil {
				t.Errorf("%s:%d (%s): unknown view %q", docsPath, s.line, s.heading, view)
				continue
			}
			for _, syn := range s.syntax {
				if syn.heading {
					continue
				}
				for _, p := range syn.paths {
					for _, v := range views {
						if !slices.ContainsFunc(byView[v], func(w []string) bool { return slices.Equal(w, p) }) {
							t.Errorf("%s:%d: %q denotes %q, which is not a command in %s", docsPath, syn.line, syn.text, strings.Join(p, " "), v)
						}
					}
				}
			}
		}
	}
}

package shell

// ReadSecret reads a password like ReadLine without echoing the keys
// typed: the line shell does its own echo, so it can leave it out.
func (t *lineTerminal) ReadSecret(prompt string) (string, error) {
	t.s.in.hidden = true
	defer func() { t.s.in.hidden = false }()
	return t.ReadLine(prompt)
}

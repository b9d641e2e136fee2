package shell

// ReadSecret reads a password like ReadLine. A script's terminal has no
// echo to turn off: the kernel's line discipline echoes what the client
// sends, and script clients send answers they already hold.
func (t *lineTerminal) ReadSecret(prompt string) (string, error) { return t.ReadLine(prompt) }

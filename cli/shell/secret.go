package shell

// ReadSecret is ReadLine without echo, for passwords (`backup
// startup-configuration` asks `Password:`): the keys typed are not shown,
// Enter ends the answer, Backspace/Delete and Ctrl+U edit it, Ctrl+C/Ctrl+Z
// abort (ErrInterrupted), Ctrl+D on an empty answer is io.EOF.
func (t *stdTerminal) ReadSecret(prompt string) (string, error) {
	return t.readAnswer(prompt, false)
}

package shell

import "io"

// ReadSecret is ReadLine without echo, for passwords (`backup
// startup-configuration` asks `Password:`): the keys typed are not shown,
// Enter ends the answer, Backspace/Delete and Ctrl+U edit it, Ctrl+C/Ctrl+Z
// abort (ErrInterrupted), Ctrl+D on an empty answer is io.EOF.
func (t *stdTerminal) ReadSecret(prompt string) (string, error) {
	t.out.WriteString(prompt)
	restore, err := keyMode(t.fd)
	if err != nil {
		return "", err
	}
	defer restore()
	var buf []byte
	for {
		c, err := t.readByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '\r' || c == '\n':
			t.out.WriteString("\n")
			return string(buf), nil
		case c == keyCtrlC || c == keyCtrlZ:
			t.out.WriteString("\n")
			return "", ErrInterrupted
		case c == keyCtrlD && len(buf) == 0:
			t.out.WriteString("\n")
			return "", io.EOF
		case c == keyBS || c == keyDEL:
			buf = dropLastRune(buf)
		case c == keyCtrlU:
			buf = buf[:0]
		case c == keyESC:
			t.skipEscape()
		case c < 0x20:
		default:
			buf = append(buf, c)
		}
	}
}

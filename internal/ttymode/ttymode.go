//go:build linux

// Package ttymode is the terminal input mode of the line-mode shell. Two
// programs set it: the SSH relay, on a new PTY before any byte from the
// client reaches it, and the line-mode shell itself, on its terminal.
//
// Why the relay sets it first: the kernel's line discipline echoes input
// when it arrives on the PTY, not when the shell reads it. A return typed
// during the relay's terminal probe and replayed before the shell has
// printed its first prompt would be echoed ahead of that prompt, and the
// shell's answer to it would land on the prompt's own line
// (`<dev><dev>`): screen scrapers that look for the prompt on a line of
// its own wait for it forever. In this mode the kernel echoes nothing and
// translates nothing; the shell echoes each byte when it reads it, where a
// real device would (cli/shell/README.md).
package ttymode

import "golang.org/x/sys/unix"

// LineInput changes t to the line-mode shell's input mode: no echo, no
// canonical line editing (the shell edits), no signal keys (Ctrl+C and
// Ctrl+Z are keys), no flow-control keys, CR kept as CR (the shell treats
// "\r", "\n" and "\r\n" as one Enter each), one byte per read at least.
// Output processing is kept: the shell's "\n" reaches the client as "\r\n".
func LineInput(t *unix.Termios) {
	t.Iflag &^= unix.ICRNL | unix.INLCR | unix.IGNCR | unix.IXON
	t.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL | unix.ISIG | unix.IEXTEN
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}

// SetLineInput puts the terminal fd in LineInput mode (TCSETS: input
// already queued stays queued) and returns its previous mode.
func SetLineInput(fd int) (old *unix.Termios, err error) {
	old, err = unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	LineInput(&t)
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return old, nil
}

// Breakable changes t, in LineInput mode, to the mode while a command
// runs: as LineInput, but Ctrl+C (and only it: no quit or suspend key)
// makes SIGINT for the shell to break the command, as the device's
// Ctrl+C stops a ping. Input typed ahead is kept (NOFLSH): it is the
// next command.
func Breakable(t *unix.Termios) {
	LineInput(t)
	t.Lflag |= unix.ISIG | unix.NOFLSH
	t.Cc[unix.VINTR] = 3 // Ctrl+C
	t.Cc[unix.VQUIT] = 0 // _POSIX_VDISABLE: no Ctrl+\ goroutine dump
	t.Cc[unix.VSUSP] = 0
}

// Set applies mode to the terminal fd.
func Set(fd int, mode func(*unix.Termios)) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	mode(t)
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

//go:build linux

package shell

import (
	"os"

	"golang.org/x/sys/unix"
)

// ttyFD returns the descriptor of v when v is an *os.File open on a
// terminal, else -1.
func ttyFD(v any) int {
	f, ok := v.(*os.File)
	if !ok || f == nil {
		return -1
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return -1
	}
	return fd
}

func getTermios(fd int) (*unix.Termios, error) {
	return unix.IoctlGetTermios(fd, unix.TCGETS)
}

func setTermios(fd int, t *unix.Termios) error {
	// TCSETS (not TCSETSF): keys already typed stay queued.
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// windowRows is the terminal's height, 0 when unknown.
func windowRows(fd int) int {
	if fd < 0 {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Row)
}

// keyMode switches fd to non-canonical, no-echo, no-signal input with one
// byte per read (output processing is kept, so "\n" still moves to column
// 0), and returns the function restoring the previous mode.
func keyMode(fd int) (restore func(), err error) {
	old, err := getTermios(fd)
	if err != nil {
		return func() {}, err
	}
	t := *old
	t.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL | unix.ISIG | unix.IEXTEN
	t.Iflag &^= unix.IXON
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := setTermios(fd, &t); err != nil {
		return func() {}, err
	}
	return func() { _ = setTermios(fd, old) }, nil
}

// runMode is the terminal mode while a command runs in the interactive
// shell: no echo and no line editing, so that keys typed ahead are neither
// echoed into the command's output nor edited by the kernel (readline gets
// them as typed at the next prompt); signals stay on (Ctrl+C interrupts).
func runMode(fd int) {
	t, err := getTermios(fd)
	if err != nil {
		return
	}
	t.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	_ = setTermios(fd, t)
}

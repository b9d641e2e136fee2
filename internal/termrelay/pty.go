package termrelay

import (
	"errors"
	"os"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/netdevd/netdevd/internal/ttymode"
)

// PTY is one pseudo-terminal. The master is non-blocking and registered
// with Go's poller (so that Close interrupts a pending Read: no goroutine is
// left behind on a terminal nobody will write to again). The relay keeps
// the slave open beside the child only to look at it (poll: has the child
// read its input yet? termios: has it left canonical mode?); it is closed
// as soon as the child has exited, so that the master then reads EIO after
// the last output.
type PTY struct {
	Master *os.File

	mu      sync.Mutex
	slave   *os.File
	slaveFd int // -1 once closed
}

// OpenPTY opens a pseudo-terminal of the given window size.
func OpenPTY(cols, rows int) (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, err
	}
	// pty.Open made the master blocking (it used Fd()); a fresh descriptor
	// in non-blocking mode gives a pollable *os.File.
	nfd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	m.Close()
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		s.Close()
		return nil, err
	}
	p := &PTY{Master: os.NewFile(uintptr(nfd), "/dev/ptmx"), slave: s, slaveFd: int(s.Fd())}
	if err := p.SetSize(cols, rows); err != nil {
		p.CloseSlave()
		p.Master.Close()
		return nil, err
	}
	return p, nil
}

// SetSize sets the window size on the master without touching its blocking
// mode (pty.Setsize would call Fd(), which makes the file blocking again).
func (p *PTY) SetSize(cols, rows int) error {
	if cols <= 0 || rows <= 0 {
		return nil
	}
	rc, err := p.Master.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)})
	})
	return errors.Join(err, ierr)
}

var errSlaveClosed = errors.New("pty slave closed")

// InputPending reports whether the child has input it has not read yet
// (meaningful when its terminal is in non-canonical mode). It asks with
// poll(2) on the slave rather than TIOCINQ: bytes written to the master go
// through the tty flip buffer, pushed to the line discipline by a kernel
// worker, so TIOCINQ can read 0 for bytes not yet pushed; n_tty's poll
// flushes that work first, so its answer covers every byte written so far.
func (p *PTY) InputPending() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slaveFd < 0 {
		return false, errSlaveClosed
	}
	fds := []unix.PollFd{{Fd: int32(p.slaveFd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, err
		}
		return n > 0 && fds[0].Revents&unix.POLLIN != 0, nil
	}
}

// Canonical reports whether the child's terminal is in canonical (cooked)
// mode; readline switches it to raw mode before it reads.
func (p *PTY) Canonical() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slaveFd < 0 {
		return false, errSlaveClosed
	}
	t, err := unix.IoctlGetTermios(p.slaveFd, unix.TCGETS)
	if err != nil {
		return false, err
	}
	return t.Lflag&unix.ICANON != 0, nil
}

// LineInput puts the terminal in the line-mode shell's input mode (no
// kernel echo or line editing: the shell echoes when it reads), before
// the child runs and before any client byte is written to the master.
func (p *PTY) LineInput() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slaveFd < 0 {
		return errSlaveClosed
	}
	_, err := ttymode.SetLineInput(p.slaveFd)
	return err
}

// Slave is the terminal side, for the child's standard input and output.
func (p *PTY) Slave() *os.File { return p.slave }

// CloseSlave closes the relay's descriptor of the terminal side.
func (p *PTY) CloseSlave() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slaveFd >= 0 {
		p.slave.Close()
		p.slaveFd = -1
	}
}

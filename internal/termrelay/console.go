package termrelay

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/netdevd/netdevd/internal/clock"
)

// The shell modes a child runs in: readline for a terminal emulator that
// answers cursor queries, line mode for anything else (scripts).
const (
	ModeReadline = "readline"
	ModeLine     = "line"
)

// ConsoleOptions describe a console shell: the terminal this process runs
// on, and the child to run on a PTY behind it.
type ConsoleOptions struct {
	In, Out *os.File
	// Command is the child for a mode (ModeReadline or ModeLine).
	Command func(mode string) *exec.Cmd
	// Grace is how long the child has between SIGHUP and SIGKILL when
	// ctx ends. 0: two seconds.
	Grace time.Duration
	Clock clock.Clock // nil: real time
}

// lateReportWindow: in line mode, a cursor report this soon after the
// start is the answer to the probe, arriving late, and is dropped.
const lateReportWindow = 3 * time.Second

// rawModeWait: in readline mode, type-ahead waits at most this long for
// the child to leave canonical mode.
const rawModeWait = 3 * time.Second

// RunConsole runs a shell child for the terminal this process holds, the
// way an SSH session's child runs: on its own PTY, with the relay between
// the terminal and the child answering readline's cursor queries itself
// and holding keys while an answer is on its way. Run directly on the
// terminal, readline gets the terminal's answers and the keys typed with
// them in one read() and drops the keys. The terminal is probed first: one
// that answers gets readline, one that does not (a script behind a PTY)
// gets line mode. The terminal is raw while the child runs (keys such as
// Ctrl+C reach the child as keys) and restored after. RunConsole returns
// the child's exit status; when ctx ends, the child is hung up (SIGHUP, then
// SIGKILL after the grace period).
func RunConsole(ctx context.Context, o ConsoleOptions) (int, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Grace == 0 {
		o.Grace = 2 * time.Second
	}
	saved, err := term.MakeRaw(int(o.In.Fd()))
	if err != nil {
		return 1, err
	}
	defer term.Restore(int(o.In.Fd()), saved)
	keys, err := readKeys(int(o.In.Fd()))
	if err != nil {
		return 1, err
	}
	defer keys.stop()

	c := &console{o: o, keys: keys}
	probed := Probe(o.Out, keys.ch, o.Clock, ProbeTimeout, ctx.Done())
	if probed.Stopped {
		return 1, ctx.Err()
	}
	if err := c.start(probed); err != nil {
		return 1, err
	}
	return c.serve(ctx, probed.Pending), nil
}

// console is one RunConsole: the child, its PTY and the relay.
type console struct {
	o      ConsoleOptions
	keys   *keyReader
	mode   string
	cmd    *exec.Cmd
	relay  *Relay
	exited chan struct{}
}

// start opens the PTY at the terminal's size and starts the child on it.
func (c *console) start(probed ProbeResult) error {
	cols, rows, err := term.GetSize(int(c.o.Out.Fd()))
	if err != nil || cols <= 0 || rows <= 0 {
		cols, rows = 80, 24
	}
	pp, err := OpenPTY(cols, rows)
	if err != nil {
		return err
	}
	c.relay = &Relay{PTY: pp, Out: c.o.Out, Clock: c.o.Clock}
	c.mode = ModeLine
	if probed.Terminal {
		c.mode = ModeReadline
		c.relay.Cursor = NewCursorModel(cols, rows, probed.Row-1, probed.Col-1)
	} else if err := pp.LineInput(); err != nil {
		pp.CloseSlave()
		pp.Master.Close()
		return err
	}
	c.cmd = c.o.Command(c.mode)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = pp.Slave(), pp.Slave(), pp.Slave()
	if c.cmd.SysProcAttr == nil {
		c.cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	c.cmd.SysProcAttr.Setsid, c.cmd.SysProcAttr.Setctty, c.cmd.SysProcAttr.Ctty = true, true, 0
	if err := c.cmd.Start(); err != nil {
		pp.CloseSlave()
		pp.Master.Close()
		return err
	}
	return nil
}

// serve relays until the child exits and returns its exit status.
func (c *console) serve(ctx context.Context, pending []byte) int {
	c.exited = make(chan struct{})
	var waitErr error
	go func() {
		waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		c.relay.CopyOutput(c.relay.PTY.Master)
	}()
	inDone := make(chan struct{})
	go func() {
		defer close(inDone)
		c.relayInput(pending)
	}()
	stopWinch := c.followWindow()

	select {
	case <-c.exited:
	case <-ctx.Done():
		c.hangUp()
	}
	stopWinch()
	c.relay.PTY.CloseSlave() // the master reads the rest of the output, then EIO
	clock.Within(c.o.Clock, time.Second, outDone)
	c.relay.PTY.Master.Close()
	<-outDone
	c.keys.stop() // ends the input relay's read
	<-inDone
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) && ee.ExitCode() > 0 {
		return ee.ExitCode()
	}
	return 0
}

// relayInput delivers the keys to the child, type-ahead from the probe
// first. In readline mode they wait until readline has the terminal raw;
// in line mode a late answer to the probe is dropped. When the terminal's
// input ends (hang-up), the child is hung up.
func (c *console) relayInput(pending []byte) {
	if c.mode == ModeReadline && !c.relay.WaitRaw(rawModeWait, c.exited) {
		return
	}
	if c.relay.Input(c.relay.PTY.Master, pending, c.keys.ch, c.mode == ModeLine, c.exited) {
		c.hangUp()
	}
}

// hangUp ends the child as a closed terminal would: SIGHUP, SIGKILL after
// the grace period; it waits until the child exited. (os.Process signals
// the child it started, never a process that took its pid after it.)
func (c *console) hangUp() {
	c.cmd.Process.Signal(syscall.SIGHUP)
	if clock.Within(c.o.Clock, c.o.Grace, c.exited) {
		return
	}
	c.cmd.Process.Kill()
	<-c.exited
}

// followWindow resizes the PTY (and the cursor model) with the terminal.
func (c *console) followWindow() (stop func()) {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-winch:
				if cols, rows, err := term.GetSize(int(c.o.Out.Fd())); err == nil {
					c.relay.Resize(cols, rows)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
		<-finished
	}
}

// keyReader reads the terminal's input into ch, in the pieces read(2)
// returns, until the input ends (ch is closed) or stop is called. It polls
// the terminal beside a pipe that stop writes to, so that its goroutine
// ends without making the terminal non-blocking (which the login shell
// sharing it would inherit).
type keyReader struct {
	fd           int
	wakeR, wakeW int
	ch           chan []byte
	quit         chan struct{}
	done         chan struct{}
	stopped      bool
}

func readKeys(fd int) (*keyReader, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	k := &keyReader{fd: fd, wakeR: p[0], wakeW: p[1], ch: make(chan []byte, 16),
		quit: make(chan struct{}), done: make(chan struct{})}
	go k.loop()
	return k, nil
}

func (k *keyReader) loop() {
	defer close(k.done)
	defer close(k.ch)
	for {
		fds := []unix.PollFd{{Fd: int32(k.fd), Events: unix.POLLIN}, {Fd: int32(k.wakeR), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents == 0 {
			continue
		}
		buf := make([]byte, 1024)
		n, err := unix.Read(k.fd, buf)
		if n > 0 {
			select {
			case k.ch <- buf[:n]:
			case <-k.quit:
				return
			}
		}
		if n == 0 || err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			return // end of input, or the terminal is gone (EIO)
		}
	}
}

// stop ends the reader and waits for its goroutine; it may be called twice.
func (k *keyReader) stop() {
	if k.stopped {
		return
	}
	k.stopped = true
	close(k.quit)
	unix.Write(k.wakeW, []byte{1})
	<-k.done
	unix.Close(k.wakeR)
	unix.Close(k.wakeW)
}

// Input delivers the user's bytes from in to the child (w), pending first,
// until in closes (true: the user's input ended) or done closes or the
// child cannot be written to (false). dropLateReport drops a cursor report
// that arrives within a few seconds of the start: the answer to a probe
// that came too late (line mode, which must never see it).
func (r *Relay) Input(w io.Writer, pending []byte, in <-chan []byte, dropLateReport bool, done <-chan struct{}) bool {
	if r.Deliver(w, pending) != nil {
		return false
	}
	start := r.Clock.Now()
	for {
		select {
		case <-done:
			return false
		case b, open := <-in:
			if !open {
				return true
			}
			if dropLateReport {
				if r.Clock.Now().Sub(start) > lateReportWindow {
					dropLateReport = false
				} else if _, _, rest, found := FindCPR(b); found {
					b, dropLateReport = rest, false
				}
			}
			if r.Deliver(w, b) != nil {
				return false
			}
		}
	}
}

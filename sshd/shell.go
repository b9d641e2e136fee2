package sshd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gliderlabs/ssh"
	"go.uber.org/zap"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/termrelay"
)

// Relay timings (README.md "Cursor reports and type-ahead"; the relay
// itself is internal/termrelay).
const (
	rawModeWait      = 3 * time.Second // readline: hold type-ahead until the child leaves canonical mode
	outputDrainAfter = time.Second     // after the child exits, output still to forward
)

// shell is one interactive session: a child process on its own PTY (or on
// pipes when the client asked for no PTY) and the relay between it and the
// SSH channel.
type shell struct {
	s      *Server
	sess   ssh.Session
	v      *vty
	id     device.Identity
	tc     *trackedConn
	isPty  bool
	ptyReq ssh.Pty
	winCh  <-chan ssh.Window

	out  io.Writer // to the client
	mode string

	pp     *termrelay.PTY // PTY mode
	stdinW *os.File       // pipe mode
	outR   *os.File       // pipe mode
	in     io.Writer
	relay  *termrelay.Relay

	inCh     chan []byte   // bytes from the client, from the one channel reader
	done     chan struct{} // the session is ending
	exited   chan struct{} // the child has been reaped
	outDone  chan struct{} // the output relay has stopped
	fwdDone  chan struct{} // the input relay has stopped
	doneOnce sync.Once
	idle     chan struct{} // the idle timeout expired
	exitErr  error
}

func (sh *shell) run() int {
	sh.inCh = make(chan []byte, 16)
	sh.done = make(chan struct{})
	sh.exited = make(chan struct{})
	sh.outDone = make(chan struct{})
	sh.fwdDone = make(chan struct{})
	sh.idle = make(chan struct{})
	sh.out = sh.sess
	defer sh.endRelay() // early returns: the channel reader must not stay blocked
	go sh.readChannel()

	pending, row, col, gone := sh.chooseMode()
	if gone {
		return 0
	}
	cmd, cleanup, ok := sh.startChild()
	if !ok {
		return 1
	}
	if cleanup != nil {
		defer cleanup()
	}
	sh.startRelays(cmd, pending, row, col)
	reason := sh.waitEnd()
	sh.endRelay()
	sh.finish(cmd, reason)
	code := 0
	var ee *exec.ExitError
	if reason == "exit" && errors.As(sh.exitErr, &ee) && ee.ExitCode() > 0 {
		code = ee.ExitCode()
	}
	return code
}

// endRelay tells the relay goroutines that the session is ending.
func (sh *shell) endRelay() { sh.doneOnce.Do(func() { close(sh.done) }) }

// chooseMode runs the terminal probe on a PTY: a real terminal answers
// ESC[6n (readline mode, the cursor at row, col), a script does not (line
// mode). pending is what the client typed meanwhile; gone means the
// client left.
func (sh *shell) chooseMode() (pending []byte, row, col int, gone bool) {
	sh.mode = ModeLine
	if !sh.isPty {
		return nil, 1, 1, false
	}
	sh.out = rawChannel(sh.sess)
	ok, row, col, pending, gone := sh.probe()
	if ok {
		sh.mode = ModeReadline
	}
	return pending, row, col, gone
}

// startChild creates and starts the shell child; on failure the client is
// told and ok is false.
func (sh *shell) startChild() (cmd *exec.Cmd, cleanup func(), ok bool) {
	s := sh.s
	cmd, cleanup, err := s.o.Shell(sh.id, sh.mode)
	if err != nil || cmd == nil {
		s.zl.Error("ssh shell: cannot create the shell command", zap.Error(err))
		fmt.Fprint(sh.out, msgNoShell)
		return nil, nil, false
	}
	if err := sh.start(cmd); err != nil {
		s.zl.Error("ssh shell: cannot start the shell child", zap.Error(err))
		fmt.Fprint(sh.out, msgNoShell)
		if cleanup != nil {
			cleanup()
		}
		return nil, nil, false
	}
	sh.v.pid.Store(int64(cmd.Process.Pid))
	s.zl.Debug("ssh shell started", zap.String("user", sh.id.User), zap.String("line", sh.id.Line),
		zap.String("mode", sh.mode), zap.Int("pid", cmd.Process.Pid))
	return cmd, cleanup, true
}

// startRelays starts the goroutines that serve a running child: its reaper,
// the output and input relays, window changes and the idle timer.
func (sh *shell) startRelays(cmd *exec.Cmd, pending []byte, row, col int) {
	sh.relay = &termrelay.Relay{PTY: sh.pp, Out: sh.out, Clock: sh.s.relayClk}
	if sh.mode == ModeReadline {
		w, h := sh.ptyReq.Window.Width, sh.ptyReq.Window.Height
		sh.relay.Cursor = termrelay.NewCursorModel(w, h, row-1, col-1)
	}
	go func() {
		sh.exitErr = cmd.Wait()
		close(sh.exited)
	}()
	go sh.relayOutput()
	go sh.relayInput(pending)
	if sh.isPty {
		go sh.windowChanges()
	}
	go sh.idleTimer()
}

// waitEnd waits for the session to end and says why.
func (sh *shell) waitEnd() string {
	select {
	case <-sh.exited:
		return "exit"
	case <-sh.outDone:
		// On pipes the output ends when the child exits: prefer that.
		if clock.Within(sh.s.relayClk, 200*time.Millisecond, sh.exited) {
			return "exit"
		}
		return "output closed"
	case <-sh.sess.Context().Done():
		return "disconnect"
	case <-sh.idle:
		return "idle"
	case <-sh.s.closing:
		return "shutdown"
	}
}

// finish ends the child and the relays; every wait on the client is
// bounded, since a client that does not read could block a write forever.
func (sh *shell) finish(cmd *exec.Cmd, reason string) {
	if reason == "idle" {
		sh.tellIdle()
	}
	sh.stop(cmd)
	if sh.pp != nil {
		sh.pp.CloseSlave() // the master now reads the rest of the output, then EIO
	}
	if reason == "exit" {
		clock.Within(sh.s.relayClk, outputDrainAfter, sh.outDone)
	}
	if sh.pp != nil {
		sh.pp.Master.Close()
	} else {
		sh.outR.Close()
		sh.stdinW.Close()
	}
	if !clock.Within(sh.s.relayClk, 2*time.Second, sh.outDone) {
		// The output relay is stuck writing to a client that does not
		// read: drop the connection.
		if sh.tc != nil {
			sh.tc.Close()
		}
		<-sh.outDone
	}
	<-sh.fwdDone
	sh.s.zl.Debug("ssh shell ended", zap.String("user", sh.id.User), zap.String("line", sh.id.Line),
		zap.String("reason", reason))
	if reason == "idle" && sh.tc != nil {
		// Like a device kicking an idle VTY user: the connection goes too.
		sh.s.afterRelay(closeDelay, func() { sh.tc.Close() })
	}
}

// tellIdle writes the idle timeout message, waiting at most a second.
func (sh *shell) tellIdle() {
	written := make(chan struct{})
	msg := fmt.Sprintf(msgIdleTimeout, idleText(sh.s.o.Config().VTY))
	go func() {
		io.WriteString(sh.out, msg)
		close(written)
	}()
	clock.Within(sh.s.relayClk, time.Second, written)
}

func idleText(v config.VTY) string {
	return fmt.Sprintf("%d minute(s) %d second(s)", v.IdleMinutes, v.IdleSeconds)
}

// readChannel is the only reader of the SSH channel.
func (sh *shell) readChannel() {
	defer close(sh.inCh)
	for {
		buf := make([]byte, 1024)
		n, err := sh.sess.Read(buf)
		if n > 0 {
			sh.v.touch(sh.s.clk.Now())
			select {
			case sh.inCh <- buf[:n]:
			case <-sh.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// probe sends one cursor position query and waits for the answer. Whatever
// the client sends meanwhile is kept (type-ahead) and returned in pending.
func (sh *shell) probe() (ok bool, row, col int, pending []byte, gone bool) {
	stop := make(chan struct{})
	probed := make(chan struct{})
	defer close(probed)
	go func() {
		defer close(stop)
		select {
		case <-sh.sess.Context().Done():
		case <-sh.s.closing:
		case <-probed:
		}
	}()
	// EOF from the client means no terminal there; relayInput sees the
	// closed channel too.
	res := termrelay.Probe(sh.out, sh.inCh, sh.s.relayClk, sh.s.o.ProbeTimeout, stop)
	if res.Stopped {
		return false, 0, 0, nil, true
	}
	return res.Terminal, res.Row, res.Col, res.Pending, false
}

// start runs the child on a new PTY (or pipes).
func (sh *shell) start(cmd *exec.Cmd) error {
	if sh.isPty {
		pp, err := termrelay.OpenPTY(sh.ptyReq.Window.Width, sh.ptyReq.Window.Height)
		if err != nil {
			return err
		}
		if sh.mode == ModeLine {
			// The kernel echoes input when it arrives, the shell when it
			// reads it: the probe's type-ahead, replayed at once, must not
			// be echoed ahead of the first prompt (README.md).
			if err := pp.LineInput(); err != nil {
				pp.CloseSlave()
				pp.Master.Close()
				return err
			}
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pp.Slave(), pp.Slave(), pp.Slave()
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		term := sh.ptyReq.Term
		if term == "" {
			term = "vt100"
		}
		cmd.Env = setEnv(cmd.Env, "TERM", term)
		if err := cmd.Start(); err != nil {
			pp.CloseSlave()
			pp.Master.Close()
			return err
		}
		sh.pp, sh.in = pp, pp.Master
		return nil
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, outW
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return err
	}
	sh.stdinW, sh.outR, sh.in = inW, outR, inW
	return nil
}

func setEnv(env []string, key, val string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+val)
}

// stop ends the child: SIGHUP to its process group (readline ignores
// SIGTERM/SIGINT), SIGKILL after the grace period; it always waits until
// the child has been reaped.
func (sh *shell) stop(cmd *exec.Cmd) {
	select {
	case <-sh.exited:
		return
	default:
	}
	pid := cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGHUP)
	if clock.Within(sh.s.relayClk, sh.s.o.KillGrace, sh.exited) {
		return
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	<-sh.exited
}

// relayOutput forwards the child's output to the client. In readline mode
// the relay answers the child's cursor position queries from its cursor
// model and never forwards them.
func (sh *shell) relayOutput() {
	defer close(sh.outDone)
	var r io.Reader = sh.outR
	if sh.pp != nil {
		r = sh.pp.Master
	}
	sh.relay.CopyOutput(r)
}

// relayInput delivers the client's bytes to the child, starting with those
// read during the probe.
func (sh *shell) relayInput(pending []byte) {
	defer close(sh.fwdDone)
	// Type-ahead waits until readline has put the terminal in raw mode,
	// or the kernel would echo it and mangle it as a cooked line.
	if sh.mode == ModeReadline && !sh.relay.WaitRaw(rawModeWait, sh.done) {
		return
	}
	// In line mode on a PTY, a late answer to the probe is dropped.
	if !sh.relay.Input(sh.in, pending, sh.inCh, sh.isPty && sh.mode == ModeLine, sh.done) {
		return
	}
	// The client sent EOF. On a terminal that is Ctrl+D (the shell ends
	// after what came before); on pipes, EOF.
	if sh.pp != nil {
		sh.relay.Deliver(sh.in, []byte{4})
	} else {
		sh.stdinW.Close()
	}
}

// windowChanges forwards window size changes to the PTY and the cursor
// model. The first event repeats the pty-req size and is skipped when equal.
func (sh *shell) windowChanges() {
	first := true
	for w := range sh.winCh {
		if first {
			first = false
			if w.Width == sh.ptyReq.Window.Width && w.Height == sh.ptyReq.Window.Height {
				continue
			}
		}
		select {
		case <-sh.done:
			continue // drain until gliderlabs closes the channel
		default:
		}
		sh.relay.Resize(w.Width, w.Height)
	}
}

// idleTimeout is the `line vty` idle-timeout; 0 means never.
func idleTimeout(v config.VTY) time.Duration {
	return time.Duration(v.IdleMinutes)*time.Minute + time.Duration(v.IdleSeconds)*time.Second
}

// idleTimer closes sh.idle when no user input arrived for the idle timeout.
// Only bytes from the client count (keepalives and output do not). The
// configuration is read again each time, so a changed timeout applies.
func (sh *shell) idleTimer() {
	clk := sh.s.clk
	for {
		d := idleTimeout(sh.s.o.Config().VTY)
		wait := time.Minute
		if d > 0 {
			idle := clk.Now().Sub(time.Unix(0, sh.v.lastInput.Load()))
			if idle >= d {
				close(sh.idle)
				return
			}
			wait = d - idle
		}
		t := clk.NewTimer(wait)
		select {
		case <-t.C():
		case <-sh.done:
			t.Stop()
			return
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a measured child process. Its exit, expected or not, is seen at
// once: a measurement checks alive() and fails when the process is gone.
type proc struct {
	name  string
	cmd   *exec.Cmd
	out   *lockedBuf // stdout+stderr, for error messages
	done  chan struct{}
	err   error
	lines chan string // stdout lines when wanted
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep the tail only
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

// checkBinary fails clearly when a binary is missing or not executable.
func checkBinary(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("binary %s: %w (run make build)", path, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("binary %s is not executable", path)
	}
	return nil
}

// start runs bin args; with lines, stdout lines are delivered on p.lines.
func start(name, bin string, lines bool, args ...string) (*proc, error) {
	if err := checkBinary(bin); err != nil {
		return nil, err
	}
	p := &proc{name: name, out: &lockedBuf{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = p.out
	var pr io.ReadCloser
	if lines {
		var err error
		if pr, err = p.cmd.StdoutPipe(); err != nil {
			return nil, err
		}
		p.lines = make(chan string, 4096)
	} else {
		p.cmd.Stdout = p.out
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var rd sync.WaitGroup
	if lines {
		rd.Add(1)
		go func() {
			defer rd.Done()
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				l := sc.Text()
				p.out.Write([]byte(l + "\n"))
				select {
				case p.lines <- l:
				default: // nobody reading: drop, it is in out
				}
			}
			close(p.lines)
		}()
	}
	go func() {
		rd.Wait()
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// alive is nil while the process runs, else why it ended.
func (p *proc) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited unexpectedly (%v); output:\n%s", p.name, p.err, p.out)
	default:
		return nil
	}
}

// stop ends the process with SIGTERM (SIGKILL after grace) and waits. It
// returns an error if the process had already died or exits non-zero.
func (p *proc) stop(grace time.Duration) error {
	if p == nil {
		return nil
	}
	if err := p.alive(); err != nil {
		return err
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %v of SIGTERM", p.name, grace)
	}
	if p.err != nil {
		return fmt.Errorf("%s: %v; output:\n%s", p.name, p.err, p.out)
	}
	return nil
}

// kill is cleanup on error paths.
func (p *proc) kill() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitLine waits for a stdout line with prefix; the process dying or the
// time running out is an error.
func (p *proc) waitLine(ctx context.Context, prefix string, limit time.Duration) (string, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				return "", p.alive()
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-t.C:
			return "", fmt.Errorf("%s: no %q line within %v; output:\n%s", p.name, prefix, limit, p.out)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// cpuTime is pid's user+system time from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("bad stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// statusKB reads a "Key:  N kB" line of /proc/PID/status.
func statusKB(pid int, key string) (uint64, error) {
	return kbField("/proc/"+strconv.Itoa(pid)+"/status", key)
}

func kbField(path, key string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// privateKB is Private_Clean + Private_Dirty of pid (smaps_rollup).
func privateKB(pid int) (uint64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/smaps_rollup"
	c, err := kbField(path, "Private_Clean")
	if err != nil {
		return 0, err
	}
	d, err := kbField(path, "Private_Dirty")
	if err != nil {
		return 0, err
	}
	return c + d, nil
}

// children lists the pids whose parent is ppid.
func children(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			out = append(out, pid)
		}
	}
	return out
}

func openFilesLimit() string {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return "?"
	}
	return fmt.Sprintf("%d/%d", rl.Cur, rl.Max)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitUnix waits until a Unix socket accepts.
func waitUnix(p *proc, path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := p.alive(); err != nil {
			return err
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s: local API %s not up within %v; output:\n%s", p.name, path, limit, p.out)
}

// waitTCP waits until addr accepts.
func waitTCP(p *proc, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := p.alive(); err != nil {
			return err
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s: %s not accepting within %v; output:\n%s", p.name, addr, limit, p.out)
}

// netdevdExec runs `netdevd exec --data-dir DIR LINE…`; a non-zero status
// is an error.
func netdevdExec(bin, dir string, lines ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"exec", "--data-dir", dir}, lines...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netdevd exec %q: %v\n%s", lines, err, out)
	}
	return string(out), nil
}

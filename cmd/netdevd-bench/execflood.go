package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

// floodLines are what each exec of the flood runs (issue 11's flood).
var floodLines = []string{"display current-configuration", "display cloud-management state"}

// floodHosts `ip host` lines make the configuration 300 lines longer: each
// exec then takes longer than the controller needs to send one, the regime
// in which a daemon that starts every exec at once piles them up (410 MB
// peak RSS before the exec queue, bench/README.md).
const floodHosts = 300

// benchExecFlood: the real `netdevd run`, joined to an embedded controller
// that sends --exec-count execs at once, --exec-floods times. Per flood: the
// daemon's peak RSS (VmHWM, reset through /proc/PID/clear_refs just
// before), every exec answered in order (anything else fails the bench),
// and the latency of `display clock` typed in an open interactive SSH
// session while the flood runs. Baselines from the same process: its RSS
// before the first flood, and `display clock` between floods.
func benchExecFlood(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-flood-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const serial = "BENCHFLOOD0001"
	ctrl, d, err := joinedDevice(ctx, c, dir, serial)
	if err != nil {
		return nil, err
	}
	defer ctrl.stop()
	defer d.p.kill()
	hostLines := []string{"system-view"}
	for i := 1; i <= floodHosts; i++ {
		hostLines = append(hostLines, fmt.Sprintf("ip host h%d.example.test 10.%d.%d.1", i, i/250, i%250))
	}
	if _, err := netdevdExec(c.netdevdBin, d.dir, hostLines...); err != nil {
		return nil, err
	}
	sh, err := openClockSession(d)
	if err != nil {
		return nil, err
	}
	defer sh.close()
	pid := d.p.pid()

	// idle: RSS every 100 ms for 5 s, with the SSH session open
	time.Sleep(time.Second) // let the start-up work finish
	var idle []float64
	for i := 0; i < 50; i++ {
		kb, err := statusKB(pid, "VmRSS")
		if err != nil {
			return nil, firstErr(d.p.alive(), err)
		}
		idle = append(idle, float64(kb)/1024)
		time.Sleep(100 * time.Millisecond)
	}
	sort.Float64s(idle)
	idleMB := median(idle)

	var peaks, quiet, during, rates []float64
	for run := 1; run <= c.execFloods; run++ {
		for i := 0; i < 10; i++ { // no flood
			took, err := sh.clock()
			if err != nil {
				return nil, firstErr(d.p.alive(), err)
			}
			quiet = append(quiet, ms(took))
		}
		if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0); err != nil {
			return nil, fmt.Errorf("resetting the daemon's peak RSS: %w", err)
		}
		lat, res, err := floodOnce(ctx, ctrl, serial, c.execCount, sh)
		if err != nil {
			return nil, firstErr(d.p.alive(), err)
		}
		hwm, err := statusKB(pid, "VmHWM")
		if err != nil {
			return nil, firstErr(d.p.alive(), err)
		}
		peaks = append(peaks, float64(hwm)/1024)
		during = append(during, lat...)
		rates = append(rates, float64(res.Answered)/res.Seconds)
	}
	if di, _ := ctrl.device(serial); !di.Connected || di.Sessions != 1 {
		return nil, fmt.Errorf("the device lost its cloud connection during the floods (%d sessions)", di.Sessions)
	}
	if err := d.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	n := fmt.Sprintf("%d-exec flood", c.execCount)
	sorted := append([]float64(nil), during...)
	sort.Float64s(sorted)
	return []Row{
		stat(n+": daemon peak RSS", "MB", peaks).withBaseline("idle RSS, same daemon", idle).
			target(fmt.Sprintf("≤ idle + 16 MB (%.1f)", idleMB+16), idleMB+16, false).
			note(fmt.Sprintf("VmHWM per flood, reset (clear_refs 5) before it; runs = floods; idle = VmRSS every 100 ms for 5 s before, SSH session open; execs: %s, configuration with %d ip host lines",
				strings.Join(floodLines, " + "), floodHosts)),
		stat(n+": execs answered per second", "execs/s", rates).
			note("every exec answered, in order, ok (checked per flood; anything else fails the bench); one at a time, 4 waiting, the rest held back by TCP"),
		stat(n+": SSH `display clock` during the flood", "ms", during).withBaseline("no flood, same session", quiet).
			target("≤ 100 ms", 100, false).
			note(fmt.Sprintf("interactive session (PTY) open before; typed → clock line received; runs = answers that began and ended inside a flood; p95 %s ms, max %s ms",
				num(sorted[len(sorted)*95/100]), num(sorted[len(sorted)-1]))),
	}, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// floodOnce runs one flood and types `display clock` as often as it can
// while the flood lasts: the latencies of those that began and ended in it.
func floodOnce(ctx context.Context, ctrl *embedded, serial string, count int, sh *clockSession) ([]float64, controller.FloodResult, error) {
	type result struct {
		r   controller.FloodResult
		err error
	}
	done := make(chan result, 1)
	fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	go func() {
		r, err := ctrl.ExecFlood(fctx, serial, floodLines, count)
		done <- result{r, err}
	}()
	running := func() bool {
		di, _ := ctrl.device(serial)
		return di.Flood != nil && di.Flood.Answered > 0 && di.Flood.Answered < di.Flood.Count
	}
	if err := waitCond(ctx, 30*time.Second, "the flood's first answer", func() bool { return running() || len(done) > 0 }); err != nil {
		return nil, controller.FloodResult{}, err
	}
	var lat []float64
	for running() {
		took, err := sh.clock()
		if err != nil {
			return nil, controller.FloodResult{}, err
		}
		if running() {
			lat = append(lat, ms(took))
		}
	}
	res := <-done
	switch r := res.r; {
	case res.err != nil:
		return nil, r, res.err
	case r.Error != "" || r.Sent != count || r.Answered != count || !r.InOrder || r.OK != count:
		return nil, r, fmt.Errorf("flood not answered in full and in order: %+v", r)
	case !strings.Contains(r.FirstOutput, "Cloud connection state"):
		return nil, r, fmt.Errorf("unexpected exec output:\n%s", r.FirstOutput)
	case len(lat) == 0:
		return nil, r, fmt.Errorf("the flood (%.2f s) ended before one display clock was answered in it", r.Seconds)
	}
	return lat, res.r, nil
}

// clockLine is one `display clock` answer.
var clockLine = regexp.MustCompile(`\d\d:\d\d:\d\d [A-Z]+ \w{3} \d\d/\d\d/\d{4}\r?\n`)

// clockSession is an interactive SSH session (PTY, the client answers the
// terminal probe like a terminal) that types `display clock` on demand.
type clockSession struct {
	cl     *gossh.Client
	s      *gossh.Session
	in     io.Writer
	lines  chan struct{} // one per clock line received
	prompt chan struct{} // the first prompt
	ended  chan error
}

func openClockSession(d *device) (*clockSession, error) {
	cl, err := gossh.Dial("tcp", d.sshAddr, clientConfig("admin", d.signer))
	if err != nil {
		return nil, err
	}
	s, err := cl.NewSession()
	if err != nil {
		cl.Close()
		return nil, err
	}
	cs := &clockSession{cl: cl, s: s, lines: make(chan struct{}, 1024), prompt: make(chan struct{}),
		ended: make(chan error, 1)}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	cs.in = in
	err = s.RequestPty("xterm", 40, 120, gossh.TerminalModes{gossh.ECHO: 1})
	if err == nil {
		err = s.Shell()
	}
	if err != nil {
		cs.close()
		return nil, err
	}
	go cs.read(out)
	select {
	case <-cs.prompt:
		return cs, nil
	case err := <-cs.ended:
		cs.close()
		return nil, fmt.Errorf("interactive SSH session ended before its prompt: %v", err)
	case <-time.After(10 * time.Second):
		cs.close()
		return nil, fmt.Errorf("no prompt within 10 s; daemon output:\n%s", d.p.out)
	}
}

// read answers the terminal probe, then signals the first prompt and each
// clock line.
func (cs *clockSession) read(out io.Reader) {
	var head, pending []byte // output before the first prompt; the unmatched rest after it
	answered, prompted := 0, false
	b := make([]byte, 4096)
	for {
		n, err := out.Read(b)
		if !prompted {
			head = append(head, b[:n]...)
			for q := bytes.Count(head, []byte("\x1b[6n")); answered < q; answered++ {
				io.WriteString(cs.in, "\x1b[1;1R") // a terminal at row 1, column 1
			}
			if promptRE.Match(head) {
				prompted = true
				close(cs.prompt)
			}
		} else {
			pending = append(pending, b[:n]...)
			if m := clockLine.FindAllIndex(pending, -1); len(m) > 0 {
				for range m {
					cs.lines <- struct{}{}
				}
				pending = pending[m[len(m)-1][1]:]
			} else if i := bytes.LastIndexByte(pending, '\n'); i >= 0 {
				pending = pending[i+1:] // keep only the unfinished line
			}
		}
		if err != nil {
			cs.ended <- err
			return
		}
	}
}

// clock types `display clock` and waits for its answer.
func (cs *clockSession) clock() (time.Duration, error) {
	t0 := time.Now()
	if _, err := io.WriteString(cs.in, "display clock\r"); err != nil {
		return 0, err
	}
	select {
	case <-cs.lines:
		return time.Since(t0), nil
	case err := <-cs.ended:
		return 0, fmt.Errorf("SSH session ended: %v", err)
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("display clock not answered within 30 s")
	}
}

func (cs *clockSession) close() {
	cs.s.Close()
	cs.cl.Close()
}

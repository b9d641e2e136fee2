package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
)

const benchDomain = "cloud.bench.test"

// embedded is an in-process controller on a loopback port.
type embedded struct {
	*controller.Server
	tlsDir string
	pool   *x509.CertPool
	port   int
	cancel context.CancelFunc
	done   chan error
}

func startEmbedded(tlsDir string, sans []string, serials ...string) (*embedded, error) {
	return startEmbeddedTLS(tlsDir, sans, nil, serials...)
}

// startEmbeddedTLS is startEmbedded with a hook that may adjust the
// controller's TLS settings (count handshakes, say).
func startEmbeddedTLS(tlsDir string, sans []string, adjust func(*tls.Config), serials ...string) (*embedded, error) {
	tc, err := controller.EnsureTLS(tlsDir, sans)
	if err != nil {
		return nil, err
	}
	if adjust != nil {
		adjust(tc)
	}
	pool, err := controller.CAPool(tlsDir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := controller.New(controller.Config{Serials: serials})
	ctx, cancel := context.WithCancel(context.Background())
	e := &embedded{Server: srv, tlsDir: tlsDir, pool: pool, port: ln.Addr().(*net.TCPAddr).Port,
		cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- srv.Serve(ctx, ln, tc) }()
	return e, nil
}

func (e *embedded) stop() {
	e.cancel()
	<-e.done
}

func (e *embedded) device(serial string) (controller.DeviceInfo, bool) {
	for _, d := range e.Devices() {
		if d.Serial == serial {
			return d, true
		}
	}
	return controller.DeviceInfo{}, false
}

// waitCond polls cond every 200 µs until it holds.
func waitCond(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return nil
}

// waitLog waits for a log entry with mnemonic (and text containing sub).
func waitLog(ctx context.Context, ch <-chan logbuf.Entry, limit time.Duration, mnemonic, sub string) (logbuf.Entry, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case e := <-ch:
			if e.Mnemonic == mnemonic && strings.Contains(e.Text, sub) {
				return e, nil
			}
		case <-t.C:
			return logbuf.Entry{}, fmt.Errorf("no %s %q log line within %v", mnemonic, sub, limit)
		case <-ctx.Done():
			return logbuf.Entry{}, ctx.Err()
		}
	}
}

func drain(ch <-chan logbuf.Entry) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// benchConfigToEstablished: an in-process daemon (the same code as
// `netdevd run`) and an embedded controller over TLS on loopback. A: the
// operator types `cloud-management server domain D` (console session
// through the command grammar) → CLOUD_ESTABLISHED in the log buffer.
// B (baseline): a bare TLS handshake + one HTTPS request (POST auth) to the
// same controller. Interleaved A/B.
func benchConfigToEstablished(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-config-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tlsDir := filepath.Join(dir, "tls")
	ctrl, err := startEmbedded(tlsDir, []string{benchDomain, "localhost", "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	defer ctrl.stop()
	d, err := daemon.New(daemon.Options{DataDir: filepath.Join(dir, "flash"), SSHListen: "127.0.0.1:0",
		CAFile: filepath.Join(tlsDir, controller.CAFile), Serial: "BENCHCFG000001"})
	if err != nil {
		return nil, err
	}
	ctrl.AddSerial(d.Serial(), "")
	dctx, cancel := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(dctx) }()
	defer func() { cancel(); <-runErr }()
	logs, unsub := d.Log().Subscribe(4096)
	defer unsub()
	if _, err := waitLog(ctx, logs, 10*time.Second, "SYSTEM_READY", ""); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if out, ok := d.RunLines(ctx, "system-view", "ip host "+benchDomain+" 127.0.0.1",
		fmt.Sprintf("cloud-management server port %d", ctrl.port)); !ok {
		return nil, fmt.Errorf("configuring the device:\n%s", out)
	}
	device := func() (float64, error) {
		drain(logs)
		t0 := time.Now()
		if out, ok := d.RunLines(ctx, "system-view", "cloud-management server domain "+benchDomain); !ok {
			return 0, fmt.Errorf("typing the domain:\n%s", out)
		}
		e, err := waitLog(ctx, logs, 10*time.Second, "CLOUD_ESTABLISHED", "")
		if err != nil {
			return 0, fmt.Errorf("%w; state:\n%s", err, cli.CloudManagementState(d.CloudStatus(), time.UTC))
		}
		took := e.Time.Sub(t0)
		// back to a device with no domain, and a controller with no connection
		if out, ok := d.RunLines(ctx, "system-view", "undo cloud-management server domain"); !ok {
			return 0, fmt.Errorf("undo:\n%s", out)
		}
		err = waitCond(ctx, 10*time.Second, "device Idle and controller disconnected", func() bool {
			di, _ := ctrl.device(d.Serial())
			return d.CloudStatus().ConnState == "Idle" && !di.Connected && len(di.Subconns) == 0
		})
		return ms(took), err
	}
	baseline := func() (float64, error) {
		return tlsPlusRequest(ctx, ctrl.pool, "127.0.0.1:"+strconv.Itoa(ctrl.port), d.Serial())
	}
	a, b, err := interleave(c.runs, device, baseline)
	if err != nil {
		return nil, err
	}
	return []Row{stat("config typed → Established (in-process daemon, TLS, loopback)", "ms", a).
		withBaseline("TLS handshake + 1 HTTPS request", b).
		target("≤ 20 ms", 20, false).
		note("device: TCP+TLS, auth, register and the WebSocket upgrade on that one connection")}, nil
}

// tlsPlusRequest is one fresh TLS connection to addr (a controller or a
// relay in front of one) and one POST auth.
func tlsPlusRequest(ctx context.Context, pool *x509.CertPool, addr, serial string) (float64, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: benchDomain,
		NextProtos: []string{"http/1.1"}}, DisableKeepAlives: true, ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	body, _ := json.Marshal(wire.AuthRequest{Serial: serial, Model: "bench", MAC: "02:00:00:00:00:01"})
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"https://"+addr+wire.PathAuth, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, fmt.Errorf("baseline request: %w", err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("baseline request: status %d, %v", resp.StatusCode, err)
	}
	return ms(took), nil
}

// interleave runs a and b n times each, alternating which goes first.
func interleave(n int, a, b func() (float64, error)) ([]float64, []float64, error) {
	var as, bs []float64
	for i := 0; i < n; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			f, dst := a, &as
			if k == 1 {
				f, dst = b, &bs
			}
			v, err := f()
			if err != nil {
				return nil, nil, fmt.Errorf("run %d: %w", i+1, err)
			}
			*dst = append(*dst, v)
		}
	}
	return as, bs, nil
}

// rstProxy forwards TCP to a controller; rst() closes its listener and
// resets every connection (SO_LINGER 0): what a crashed primary looks like.
type rstProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func (p *rstProxy) listen() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.addr = ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return nil
}

func (p *rstProxy) rst() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	p.conns = nil
}

// failoverPair is a primary and a backup controller for one serial, the
// primary behind a proxy whose rst() resets every connection (the
// failure the failover rows time).
type failoverPair struct {
	primary, backup *embedded
	px              *rstProxy
}

func startFailoverPair(dir string, sans []string, serial string) (*failoverPair, error) {
	primary, err := startEmbedded(dir, sans, serial)
	if err != nil {
		return nil, err
	}
	backup, err := startEmbedded(dir, nil, serial)
	if err != nil {
		primary.stop()
		return nil, err
	}
	px := &rstProxy{addr: "127.0.0.1:0", target: "127.0.0.1:" + strconv.Itoa(primary.port)}
	if err := px.listen(); err != nil {
		backup.stop()
		primary.stop()
		return nil, err
	}
	return &failoverPair{primary: primary, backup: backup, px: px}, nil
}

func (f *failoverPair) stop() {
	f.px.rst()
	f.backup.stop()
	f.primary.stop()
}

// benchFailover: a device (cloudmgmt.Client) on the primary behind an RST
// proxy, a backup configured; the primary resets every connection and
// stops listening → Established on the backup. The 0–1 s connected→down
// jitter is set to 0 (Rand = 0) so that the figure is the protocol work;
// with the jitter, add U(0,1) s.
func benchFailover(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-failover-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const serial = "BENCHFO000001"
	sans := []string{"primary.bench.test", "backup.bench.test", "127.0.0.1"}
	fp, err := startFailoverPair(dir, sans, serial)
	if err != nil {
		return nil, err
	}
	defer fp.stop()
	primary, backup, px := fp.primary, fp.backup, fp.px
	_, pport, _ := net.SplitHostPort(px.addr)
	pp, _ := strconv.Atoi(pport)
	lb := logbuf.New(4096, nil, nil)
	logs, unsub := lb.Subscribe(4096)
	defer unsub()
	cl := cloudmgmt.New(cloudmgmt.Options{Serial: serial, RootCAs: primary.pool, Log: lb,
		Rand: func() float64 { return 0 }, ResolvConf: "/nonexistent"})
	lo := netip.MustParseAddr("127.0.0.1")
	cl.SetConfig(config.Cloud{ServerDomain: "primary.bench.test", ServerPort: pp,
		Backups:   []config.Backup{{Domain: "backup.bench.test", Port: backup.port}},
		Keepalive: 180, Ping: 60}, nil,
		[]config.IPHost{{Name: "primary.bench.test", Addr: lo}, {Name: "backup.bench.test", Addr: lo}})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); cl.Run(cctx) }()
	defer func() { cancel(); <-done }()
	onPrimary := func() error {
		if _, err := waitLog(ctx, logs, 15*time.Second, "CLOUD_ESTABLISHED", "primary.bench.test"); err != nil {
			return fmt.Errorf("%w; state:\n%s", err, cli.CloudManagementState(cl.Status(), time.UTC))
		}
		return waitCond(ctx, 10*time.Second, "sub-connections on the primary", func() bool {
			di, _ := primary.device(serial)
			return di.Connected && len(di.Subconns) == 2
		})
	}
	if err := onPrimary(); err != nil {
		return nil, err
	}
	var xs []float64
	for i := 0; i < c.runs; i++ {
		drain(logs)
		t0 := time.Now()
		px.rst()
		e, err := waitLog(ctx, logs, 15*time.Second, "CLOUD_ESTABLISHED", "backup.bench.test")
		if err != nil {
			return nil, fmt.Errorf("run %d: %w; state:\n%s", i+1, err, cli.CloudManagementState(cl.Status(), time.UTC))
		}
		xs = append(xs, ms(e.Time.Sub(t0)))
		// primary back, reset cloud-management tunnel → top of the list
		if err := px.listen(); err != nil {
			return nil, err
		}
		drain(logs)
		cl.Reset()
		if err := onPrimary(); err != nil {
			return nil, fmt.Errorf("run %d: back to primary: %w", i+1, err)
		}
	}
	return []Row{stat("primary RST → Established on backup", "ms", xs).target("≤ 50 ms", 50, false).
		note("0–1 s reconnect jitter set to 0; real devices add U(0,1) s")}, nil
}

// benchSilent: under the fake clock, a controller that stops answering
// (no pongs, no keepalive-acks) → how many intervals until the device
// declares the connection down.
func benchSilent(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-silent-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const serial = "BENCHSIL000001"
	ctrl, err := startEmbedded(dir, []string{benchDomain, "127.0.0.1"}, serial)
	if err != nil {
		return nil, err
	}
	defer ctrl.stop()
	measure := func(keepalive, ping int, phase float64, want string) (float64, error) {
		ctrl.SetFaults(controller.Faults{})
		clk := clock.NewFake(time.Date(2026, 1, 27, 14, 18, 40, 0, time.UTC))
		cl := cloudmgmt.New(cloudmgmt.Options{Serial: serial, RootCAs: ctrl.pool, Clock: clk,
			Rand: func() float64 { return 0.5 }, ResolvConf: "/nonexistent"})
		cl.SetConfig(config.Cloud{ServerDomain: benchDomain, ServerPort: ctrl.port, Keepalive: keepalive, Ping: ping},
			nil, []config.IPHost{{Name: benchDomain, Addr: netip.MustParseAddr("127.0.0.1")}})
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); cl.Run(cctx) }()
		defer func() { cancel(); <-done }()
		if err := waitCond(ctx, 10*time.Second, "Established with sub-connections", func() bool {
			di, _ := ctrl.device(serial)
			return cl.Status().ConnState == "Established" && di.Connected && len(di.Subconns) == 2
		}); err != nil {
			return 0, err
		}
		if err := quiesce(ctx, clk); err != nil {
			return 0, err
		}
		// the silence starts at phase·interval after the last answered probe
		interval := time.Duration(min(keepalive, ping)) * time.Second
		clk.Advance(time.Duration(phase * float64(interval)))
		if err := quiesce(ctx, clk); err != nil {
			return 0, err
		}
		ctrl.SetFaults(controller.Faults{DropPongs: true, DropKeepaliveAcks: true})
		for sec := 1; sec <= 6*int(interval/time.Second); sec++ {
			clk.Advance(time.Second)
			if err := quiesce(ctx, clk); err != nil {
				return 0, err
			}
			if st := cl.Status(); st.ConnState != "Established" {
				if !strings.HasPrefix(st.LastDownReason, want) {
					return 0, fmt.Errorf("down for %q, want %s", st.LastDownReason, want)
				}
				return float64(sec) / float64(interval/time.Second), nil
			}
		}
		return 0, fmt.Errorf("still Established after 20 silent intervals")
	}
	runs := min(c.runs, 5)
	var pingN, kaN []float64
	for i := 0; i < runs; i++ {
		phase := (float64(i) + 0.5) / float64(runs) // spread over one interval
		v, err := measure(3600, 10, phase, "ping timeout")
		if err != nil {
			return nil, fmt.Errorf("ping run %d: %w", i+1, err)
		}
		pingN = append(pingN, v)
		v, err = measure(10, 3600, phase, "keepalive timeout")
		if err != nil {
			return nil, fmt.Errorf("keepalive run %d: %w", i+1, err)
		}
		kaN = append(kaN, v)
	}
	return []Row{
		stat("silent controller → down (ping 10 s, fake clock)", "ping intervals", pingN).
			target("3 missed = ≤ 4 intervals", 4, false).
			note("silence starts at spread phases of an interval; 1 s fake-clock steps; reason ping timeout"),
		stat("silent controller → down (keepalive 10 s, fake clock)", "keepalive intervals", kaN).
			target("3 missed = ≤ 4 intervals", 4, false).
			note("as above; reason keepalive timeout"),
	}, nil
}

// quiesce waits until the number of armed fake timers has stayed the same
// for a few polls: the code under test sleeps again.
func quiesce(ctx context.Context, clk *clock.Fake) error {
	last, same := -1, 0
	deadline := time.Now().Add(10 * time.Second)
	for same < 5 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("device never went back to sleep on the fake clock")
		}
		time.Sleep(3 * time.Millisecond)
		n := clk.Pending()
		if n == last && n > 0 {
			same++
		} else {
			same = 0
		}
		last = n
	}
	return nil
}

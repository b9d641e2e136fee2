package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cmd/netdevd/fleet"
)

// shard is one cloudsim process and the fleet process that joins it. A
// device holds 3 sockets on each side (main + 2 sub-connections), so
// RLIMIT_NOFILE bounds how many devices one process can hold; the bench
// splits the fleet into shards that fit.
type shard struct {
	n           int
	prefix      string
	port        int
	adminPort   int
	serials     string
	csArgs      []string
	cs, fl      *proc
	jsonPath    string
	csMemBefore procMemory
	csCPUBefore time.Duration
	coldFailed  int // failed attempts until all were Established

	mu      sync.Mutex
	downFor time.Duration // controller restart: stop + start
	st      fleetState
}

// fleetState is the last per-second line of a fleet.
type fleetState struct {
	established, up, down, failed int
}

var fleetLineRE = regexp.MustCompile(`^fleet t=\S+ established=(\d+)/(\d+) .* up=(\d+) down=(\d+) failed=(\d+) `)

func (s *shard) follow() {
	for l := range s.fl.lines {
		m := fleetLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var st fleetState
		st.established, _ = strconv.Atoi(m[1])
		st.up, _ = strconv.Atoi(m[3])
		st.down, _ = strconv.Atoi(m[4])
		st.failed, _ = strconv.Atoi(m[5])
		s.mu.Lock()
		s.st = st
		s.mu.Unlock()
	}
}

func (s *shard) state() fleetState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func startCloudsim(c *benchConfig, s *shard) error {
	p, err := start("cloudsim "+s.prefix, c.cloudsimBin, true, s.csArgs...)
	if err != nil {
		return err
	}
	if _, err := p.waitLine(context.Background(), "cloudsim listening", 20*time.Second); err != nil {
		p.kill()
		return err
	}
	go func() {
		for range p.lines {
		}
	}()
	s.cs = p
	return nil
}

// benchFleet: N virtual devices (netdevd fleet) against cloudsim processes:
// time and CPU to all Established, memory per device on both sides; then
// every controller is restarted twice — without and with admission control —
// and the reconnection curves are recorded; last, the controllers break
// every connection just after Established (flapbench.go).
func benchFleet(ctx context.Context, c *benchConfig) ([]Row, error) {
	if c.fleetN <= 0 {
		return []Row{{Name: "fleet", Skipped: "--fleet 0"}}, nil
	}
	for _, b := range []string{c.netdevdBin, c.cloudsimBin} {
		if err := checkBinary(b); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "netdevd-bench-fleet-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fr := &fleetRun{c: c, ctx: ctx, dir: dir, tlsDir: filepath.Join(dir, "tls")}
	defer fr.killAll()
	if err := fr.startControllers(); err != nil {
		return nil, err
	}
	cold, err := fr.coldStart()
	if err != nil {
		return nil, err
	}
	var restarts []restartResult
	if c.fleetRestart {
		// the paced restart first: the flap phase then meets controllers
		// without admission control (the devices' own damping alone)
		for _, admit := range []time.Duration{c.fleetAdmitWindow, 0} {
			r, err := fr.restart(admit)
			if err != nil {
				return nil, err
			}
			restarts = append(restarts, r)
		}
	}
	var flap *flapResult
	if c.fleetFlap > 0 {
		r, err := fr.flap(c.fleetFlap)
		if err != nil {
			return nil, fmt.Errorf("flap: %w", err)
		}
		flap = &r
	}
	reps, err := fr.stopAll()
	if err != nil {
		return nil, err
	}
	rows := fr.rows(cold, restarts, reps)
	if flap != nil {
		rows = append(rows, flapRows(fmt.Sprintf("fleet %d", c.fleetN), c.fleetN, *flap)...)
	}
	return rows, nil
}

// fleetRun is the shards of one fleet measurement.
type fleetRun struct {
	c           *benchConfig
	ctx         context.Context
	dir, tlsDir string
	shards      []*shard
}

func (fr *fleetRun) killAll() {
	for _, s := range fr.shards {
		if s.fl != nil {
			s.fl.kill()
		}
		if s.cs != nil {
			s.cs.kill()
		}
	}
}

// cloudsimArgs: admit > 0 turns the controller's admission control on
// (503 + Retry-After, cmd/cloudsim/README.md).
func (fr *fleetRun) cloudsimArgs(s *shard, admit time.Duration) []string {
	return []string{"run", "--listen", "127.0.0.1:" + strconv.Itoa(s.port),
		"--admin-listen", "127.0.0.1:" + strconv.Itoa(s.adminPort),
		"--serials", s.serials, "--tls-dir", fr.tlsDir, "--log-level", "error",
		"--admit-window", admit.String()}
}

func (fr *fleetRun) startControllers() error {
	c := fr.c
	if _, err := controller.EnsureTLS(fr.tlsDir, []string{"127.0.0.1", "localhost"}); err != nil {
		return err
	}
	k := (c.fleetN + c.fleetShard - 1) / c.fleetShard
	for i := 0; i < k; i++ {
		n := c.fleetN / k
		if i < c.fleetN%k {
			n++
		}
		port, err := freePort()
		if err != nil {
			return err
		}
		adminPort, err := freePort()
		if err != nil {
			return err
		}
		s := &shard{n: n, prefix: fmt.Sprintf("BFL%d", i), port: port, adminPort: adminPort,
			serials:  filepath.Join(fr.dir, fmt.Sprintf("serials-%d", i)),
			jsonPath: filepath.Join(fr.dir, fmt.Sprintf("fleet-%d.json", i))}
		if err := fleet.WriteSerials(s.serials, s.prefix, n); err != nil {
			return err
		}
		s.csArgs = fr.cloudsimArgs(s, 0)
		fr.shards = append(fr.shards, s)
		if err := startCloudsim(c, s); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, s := range fr.shards {
		m, err := controllerMemory(s)
		if err != nil {
			return err
		}
		s.csMemBefore = m
		if s.csCPUBefore, err = cpuTime(s.cs.pid()); err != nil {
			return err
		}
	}
	return nil
}

// coldMeasure is the cold start: every device at once, controllers without
// admission control.
type coldMeasure struct {
	seen  time.Duration
	csCPU float64
	csMem procMemory // summed deltas over the shards
}

func (fr *fleetRun) coldStart() (coldMeasure, error) {
	var m coldMeasure
	c := fr.c
	var err error
	t0 := time.Now()
	for _, s := range fr.shards {
		s.fl, err = start("netdevd fleet "+s.prefix, c.netdevdBin, true, "fleet", "--count", strconv.Itoa(s.n),
			"--serial-prefix", s.prefix, "--controller", "https://127.0.0.1:"+strconv.Itoa(s.port),
			"--ca-file", filepath.Join(fr.tlsDir, controller.CAFile), "--json", s.jsonPath, "--log-level", "error")
		if err != nil {
			return m, err
		}
		go s.follow()
	}
	fmt.Fprintf(os.Stderr, "bench: fleet %d devices in %d shard(s) started\n", c.fleetN, len(fr.shards))
	if err := fr.waitAll(5*time.Minute, func(s *shard) int { return s.n }); err != nil {
		return m, err
	}
	m.seen = time.Since(t0)
	for _, s := range fr.shards {
		s.coldFailed = s.state().failed
	}
	// settle like the fleet does before its memory figures (cmd/netdevd/fleet
	// settleTime): sub-connections up, first telemetry acknowledged
	time.Sleep(3 * time.Second)
	for _, s := range fr.shards {
		mem, err := controllerMemory(s)
		if err != nil {
			return m, err
		}
		m.csMem = m.csMem.plus(mem.minus(s.csMemBefore))
		cpu, err := cpuTime(s.cs.pid())
		if err != nil {
			return m, err
		}
		m.csCPU += (cpu - s.csCPUBefore).Seconds()
	}
	fmt.Fprintf(os.Stderr, "bench: fleet all Established (seen after %.1fs)\n", m.seen.Seconds())
	return m, nil
}

func (fr *fleetRun) alive() error {
	for _, s := range fr.shards {
		if err := s.cs.alive(); err != nil {
			return err
		}
		if err := s.fl.alive(); err != nil {
			return err
		}
	}
	return nil
}

// waitAll waits until every shard's fleet line says all Established and at
// least upAtLeast(s) CLOUD_ESTABLISHED events.
func (fr *fleetRun) waitAll(limit time.Duration, upAtLeast func(*shard) int) error {
	deadline := time.Now().Add(limit)
	for {
		if err := fr.alive(); err != nil {
			return err
		}
		if err := fr.ctx.Err(); err != nil {
			return err
		}
		done := true
		for _, s := range fr.shards {
			st := s.state()
			if st.established != s.n || st.up < upAtLeast(s) {
				done = false
			}
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			var st []string
			for _, s := range fr.shards {
				x := s.state()
				st = append(st, fmt.Sprintf("%s %d/%d up=%d", s.prefix, x.established, s.n, x.up))
			}
			return fmt.Errorf("fleet not all Established within %v: %s", limit, strings.Join(st, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restartResult is one controller restart with the fleet connected.
type restartResult struct {
	admit         time.Duration // admission window of the restarted controllers (0 = off)
	at            time.Time
	took, downMax time.Duration
	failed, down  int
	busy          int // 503 busy answers (admission control)
}

// restart stops every controller at the same moment and starts it again at
// once (same port and TLS directory), then waits until every device has a
// new CLOUD_ESTABLISHED.
func (fr *fleetRun) restart(admit time.Duration) (restartResult, error) {
	r := restartResult{admit: admit}
	before := map[*shard]fleetState{}
	for _, s := range fr.shards {
		before[s] = s.state()
	}
	r.at = time.Now()
	errc := make(chan error, len(fr.shards))
	for _, s := range fr.shards {
		go func() {
			t := time.Now()
			if err := s.cs.stop(20 * time.Second); err != nil {
				errc <- fmt.Errorf("stopping the controller: %w", err)
				return
			}
			s.csArgs = fr.cloudsimArgs(s, admit)
			err := startCloudsim(fr.c, s)
			if err != nil {
				err = fmt.Errorf("restarting the controller: %w", err)
			}
			s.mu.Lock()
			s.downFor = time.Since(t)
			s.mu.Unlock()
			errc <- err
		}()
	}
	for range fr.shards {
		if err := <-errc; err != nil {
			return r, err
		}
	}
	for _, s := range fr.shards {
		r.downMax = max(r.downMax, s.downFor)
	}
	fmt.Fprintf(os.Stderr, "bench: controllers restarted in %.2fs (admission window %v)\n", time.Since(r.at).Seconds(), admit)
	if err := fr.waitAll(5*time.Minute, func(s *shard) int { return before[s].up + s.n }); err != nil {
		return r, fmt.Errorf("after the controller restart: %w", err)
	}
	r.took = time.Since(r.at)
	for _, s := range fr.shards {
		st := s.state()
		r.failed += st.failed - before[s].failed
		r.down += st.down - before[s].down
		if b, err := admissionBusy(s); err == nil {
			r.busy += b
		} else {
			return r, err
		}
	}
	// let the last second's events land in a fleet line before the next step
	time.Sleep(1500 * time.Millisecond)
	return r, nil
}

func (fr *fleetRun) stopAll() ([]fleet.Report, error) {
	var reps []fleet.Report
	for _, s := range fr.shards {
		if err := s.fl.stop(60 * time.Second); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(s.jsonPath)
		if err != nil {
			return nil, fmt.Errorf("fleet report: %w", err)
		}
		var r fleet.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("fleet report: %w", err)
		}
		if r.AllEstablishedSeconds < 0 || r.Count != s.n {
			return nil, fmt.Errorf("fleet %s report says not all Established: %+v", s.prefix, r)
		}
		if r.RSSAllBytes == 0 {
			return nil, fmt.Errorf("fleet %s report has no memory figures (never settled): %+v", s.prefix, r)
		}
		reps = append(reps, r)
	}
	for _, s := range fr.shards {
		if err := s.cs.stop(20 * time.Second); err != nil {
			return nil, err
		}
	}
	return reps, nil
}

func (fr *fleetRun) rows(cold coldMeasure, restarts []restartResult, reps []fleet.Report) []Row {
	c := fr.c
	var tAll, devCPU float64
	var dev procMemory
	coldFailed := 0
	for _, s := range fr.shards {
		coldFailed += s.coldFailed
	}
	for _, r := range reps {
		tAll = max(tAll, r.AllEstablishedSeconds)
		devCPU += r.CPUToAllSeconds
		dev = dev.plus(procMemory{rss: float64(r.RSSAllBytes) - float64(r.RSSBeforeBytes),
			heap: r.PerDeviceGoHeapBytes * float64(r.Count), stacks: r.PerDeviceStackBytes * float64(r.Count),
			goroutines: r.PerDeviceGoroutines * float64(r.Count)})
	}
	n := float64(c.fleetN)
	one := func(name, unit string, v float64) Row { return stat(name, unit, []float64{v}) }
	label := fmt.Sprintf("fleet %d", c.fleetN)
	shardNote := fmt.Sprintf("1 run; all devices at once; %d cloudsim+fleet pair(s) (RLIMIT_NOFILE %s); controllers without admission control; %d failed attempts",
		len(fr.shards), openFilesLimit(), coldFailed)
	first := one(label+": start → all Established", "s", tAll).note(shardNote)
	if c.fleetN >= 10000 {
		first = first.target("≤ 30 s (10,000)", 30, false)
	} else {
		first = first.note(shardNote + "; the 30 s target is for 10,000")
	}
	rows := []Row{
		first,
		one(label+": CPU to all Established, devices + controller", "s", devCPU+cold.csCPU).
			note(fmt.Sprintf("devices %.1f s, controller %.1f s (user+system)", devCPU, cold.csCPU)),
		one(label+": memory per device, both sides", "KB", (dev.rss+cold.csMem.rss)/n/1e3).target("≤ 60 KB", 60, false).
			note(fmt.Sprintf("device side %s; controller side %s; RSS deltas once settled, after a GC that returns free memory to the OS, on both sides",
				dev.perDevice(n), cold.csMem.perDevice(n))),
	}
	for _, r := range restarts {
		curve, peak := reconnectCurve(reps, r.at, r.at.Add(r.took+time.Second))
		mode := "device jitter only (controllers without admission control)"
		if r.admit > 0 {
			mode = fmt.Sprintf("controllers with admission control, window %v (503 + Retry-After)", r.admit)
		}
		busiest := one(fmt.Sprintf("%s restart, %s: reconnections in the busiest second", label, admitLabel(r.admit)), "% of fleet", 100*float64(peak)/n).
			note("per-second curve: " + curve)
		if r.admit > 0 {
			busiest = busiest.target("≤ 5%", 5, false)
		}
		rows = append(rows,
			one(fmt.Sprintf("%s restart, %s: all reconnected", label, admitLabel(r.admit)), "s", r.took.Seconds()).
				note(fmt.Sprintf("1 run; %s; controller down %.2f s (stop+start); %d down events, %d failed attempts, %d busy answers",
					mode, r.downMax.Seconds(), r.down, r.failed, r.busy)),
			busiest)
	}
	return rows
}

func admitLabel(admit time.Duration) string {
	if admit == 0 {
		return "jitter only"
	}
	return "admission " + admit.String()
}

// reconnectCurve merges the fleets' CLOUD_ESTABLISHED-per-second counts
// in [from, to].
func reconnectCurve(reps []fleet.Report, from, to time.Time) (string, int) {
	sum := map[int64]int{}
	for _, r := range reps {
		for sec, k := range r.UpPerSecond {
			if sec >= from.Unix() && sec <= to.Unix() {
				sum[sec] += k
			}
		}
	}
	var secs []int64
	for s := range sum {
		secs = append(secs, s)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	var parts []string
	peak := 0
	if len(secs) > 0 {
		for s := secs[0]; s <= secs[len(secs)-1]; s++ {
			parts = append(parts, strconv.Itoa(sum[s]))
			peak = max(peak, sum[s])
		}
	}
	return strings.Join(parts, " "), peak
}

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
	"github.com/netdevd/netdevd/internal/fleet"
)

// shard is one cloudsim process and the fleet process that joins it. A
// device holds 3 sockets on each side (main + 2 sub-connections), so
// RLIMIT_NOFILE bounds how many devices one process can hold; the bench
// splits the fleet into shards that fit.
type shard struct {
	n           int
	prefix      string
	port        int
	serials     string
	csArgs      []string
	cs, fl      *proc
	jsonPath    string
	csRSSBefore uint64
	csCPUBefore time.Duration

	mu          sync.Mutex
	downFor     time.Duration // controller restart: stop + start
	established int
	up          int
	lines       int
}

var fleetLineRE = regexp.MustCompile(`^fleet t=\S+ established=(\d+)/(\d+) .* up=(\d+) `)

func (s *shard) follow() {
	for l := range s.fl.lines {
		m := fleetLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		e, _ := strconv.Atoi(m[1])
		u, _ := strconv.Atoi(m[3])
		s.mu.Lock()
		s.established, s.up = e, u
		s.lines++
		s.mu.Unlock()
	}
}

func (s *shard) state() (established, up int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.established, s.up
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
// every controller is restarted and the reconnection curve is recorded.
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
	tlsDir := filepath.Join(dir, "tls")
	if _, err := controller.EnsureTLS(tlsDir, []string{"127.0.0.1", "localhost"}); err != nil {
		return nil, err
	}
	k := (c.fleetN + c.fleetShard - 1) / c.fleetShard
	var shards []*shard
	defer func() {
		for _, s := range shards {
			s.fl.kill()
			s.cs.kill()
		}
	}()
	for i := 0; i < k; i++ {
		n := c.fleetN / k
		if i < c.fleetN%k {
			n++
		}
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &shard{n: n, prefix: fmt.Sprintf("BFL%d", i), port: port,
			serials: filepath.Join(dir, fmt.Sprintf("serials-%d", i)), jsonPath: filepath.Join(dir, fmt.Sprintf("fleet-%d.json", i))}
		if err := fleet.WriteSerials(s.serials, s.prefix, n); err != nil {
			return nil, err
		}
		s.csArgs = []string{"run", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--admin-listen", "none",
			"--serials", s.serials, "--tls-dir", tlsDir, "--log-level", "error"}
		shards = append(shards, s)
		if err := startCloudsim(c, s); err != nil {
			return nil, err
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, s := range shards {
		kb, err := statusKB(s.cs.pid(), "VmRSS")
		if err != nil {
			return nil, err
		}
		s.csRSSBefore = kb * 1024
		if s.csCPUBefore, err = cpuTime(s.cs.pid()); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	for _, s := range shards {
		s.fl, err = start("netdevd fleet "+s.prefix, c.netdevdBin, true, "fleet", "--count", strconv.Itoa(s.n),
			"--serial-prefix", s.prefix, "--controller", "https://127.0.0.1:"+strconv.Itoa(s.port),
			"--ca-file", filepath.Join(tlsDir, controller.CAFile), "--json", s.jsonPath, "--log-level", "error")
		if err != nil {
			return nil, err
		}
		go s.follow()
	}
	alive := func() error {
		for _, s := range shards {
			if err := s.cs.alive(); err != nil {
				return err
			}
			if err := s.fl.alive(); err != nil {
				return err
			}
		}
		return nil
	}
	waitAll := func(limit time.Duration, upAtLeast func(*shard) int) error {
		deadline := time.Now().Add(limit)
		for {
			if err := alive(); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			done := true
			for _, s := range shards {
				e, u := s.state()
				if e != s.n || u < upAtLeast(s) {
					done = false
				}
			}
			if done {
				return nil
			}
			if time.Now().After(deadline) {
				var st []string
				for _, s := range shards {
					e, u := s.state()
					st = append(st, fmt.Sprintf("%s %d/%d up=%d", s.prefix, e, s.n, u))
				}
				return fmt.Errorf("fleet not all Established within %v: %s", limit, strings.Join(st, ", "))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	fmt.Fprintf(os.Stderr, "bench: fleet %d devices in %d shard(s) started\n", c.fleetN, k)
	if err := waitAll(5*time.Minute, func(s *shard) int { return s.n }); err != nil {
		return nil, err
	}
	seen := time.Since(t0)
	time.Sleep(2 * time.Second) // settle: sub-connections, first telemetry
	var csRSS, csCPU float64
	for _, s := range shards {
		kb, err := statusKB(s.cs.pid(), "VmRSS")
		if err != nil {
			return nil, err
		}
		csRSS += float64(kb*1024) - float64(s.csRSSBefore)
		cpu, err := cpuTime(s.cs.pid())
		if err != nil {
			return nil, err
		}
		csCPU += (cpu - s.csCPUBefore).Seconds()
	}
	fmt.Fprintf(os.Stderr, "bench: fleet all Established (seen after %.1fs)\n", seen.Seconds())

	var restartAt time.Time
	var restartDone, downMax time.Duration
	if c.fleetRestart {
		upBefore := map[*shard]int{}
		for _, s := range shards {
			_, upBefore[s] = s.state()
		}
		// every controller restarts at the same moment, each as fast as it can
		// (stop, then start again at once on the same port and TLS directory)
		restartAt = time.Now()
		errc := make(chan error, len(shards))
		for _, s := range shards {
			go func() {
				t := time.Now()
				if err := s.cs.stop(20 * time.Second); err != nil {
					errc <- fmt.Errorf("stopping the controller: %w", err)
					return
				}
				err := startCloudsim(c, s)
				if err != nil {
					err = fmt.Errorf("restarting the controller: %w", err)
				}
				s.mu.Lock()
				s.downFor = time.Since(t)
				s.mu.Unlock()
				errc <- err
			}()
		}
		for range shards {
			if err := <-errc; err != nil {
				return nil, err
			}
		}
		for _, s := range shards {
			downMax = max(downMax, s.downFor)
		}
		fmt.Fprintf(os.Stderr, "bench: controllers restarted in %.2fs\n", time.Since(restartAt).Seconds())
		if err := waitAll(5*time.Minute, func(s *shard) int { return upBefore[s] + s.n }); err != nil {
			return nil, fmt.Errorf("after the controller restart: %w", err)
		}
		restartDone = time.Since(restartAt)
	}
	var reps []fleet.Report
	for _, s := range shards {
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
		reps = append(reps, r)
	}
	for _, s := range shards {
		if err := s.cs.stop(20 * time.Second); err != nil {
			return nil, err
		}
	}
	var tAll, devCPU, devRSS float64
	var failed, down uint64
	for _, r := range reps {
		failed += r.Failed
		down += r.Down
		tAll = max(tAll, r.AllEstablishedSeconds)
		devCPU += r.CPUToAllSeconds
		devRSS += float64(r.RSSAllBytes) - float64(r.RSSBeforeBytes)
	}
	n := float64(c.fleetN)
	devKB, csKB := devRSS/n/1e3, csRSS/n/1e3
	one := func(name, unit string, v float64) Row { return stat(name, unit, []float64{v}) }
	label := fmt.Sprintf("fleet %d", c.fleetN)
	shardNote := fmt.Sprintf("1 run; %d cloudsim+fleet pair(s) (RLIMIT_NOFILE %s)", k, openFilesLimit())
	first := one(label+": start → all Established", "s", tAll).note(shardNote)
	if c.fleetN >= 10000 {
		first = first.target("≤ 30 s (10,000)", 30, false)
	} else {
		first = first.note(shardNote + "; the 30 s target is for 10,000")
	}
	rows := []Row{
		first,
		one(label+": CPU to all Established, devices + controller", "s", devCPU+csCPU).
			note(fmt.Sprintf("devices %.1f s, controller %.1f s (user+system)", devCPU, csCPU)),
		one(label+": memory per device, both sides", "KB", devKB+csKB).target("≤ 60 KB", 60, false).
			note(fmt.Sprintf("device side %.1f KB (RSS delta after GC), controller side %.1f KB (RSS delta, no forced GC)", devKB, csKB)),
	}
	if c.fleetRestart {
		curve, peak := reconnectCurve(reps, restartAt)
		rows = append(rows,
			one(label+": controller restart → all reconnected", "s", restartDone.Seconds()).
				note(fmt.Sprintf("1 run; controller down %.2f s (stop+start); %d down events, %d failed attempts; seen at 1 s fleet lines",
					downMax.Seconds(), down, failed)),
			one(label+": reconnections in the busiest second", "% of fleet", 100*float64(peak)/n).
				target("≤ 5%", 5, false).note("per-second curve: "+curve))
	}
	return rows, nil
}

// reconnectCurve merges the fleets' CLOUD_ESTABLISHED-per-second counts
// from the restart on.
func reconnectCurve(reps []fleet.Report, from time.Time) (string, int) {
	sum := map[int64]int{}
	for _, r := range reps {
		for sec, k := range r.UpPerSecond {
			if sec >= from.Unix() {
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

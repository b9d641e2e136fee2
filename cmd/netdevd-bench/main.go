// Command netdevd-bench is `make bench`: it runs the Go benchmarks and its
// own measurements of the device (cloud connection, failover, dead-peer
// detection, SSH, memory, a device fleet), prints one table, and writes
// bench/results.json and docs/benchmarks.md.
//
// Every timing is the median of repeated runs; where a baseline exists it
// is measured in the same run, interleaved A/B, and given as a ratio. A
// measurement whose process fails stops the bench with a non-zero status
// and no table: no number is ever printed for a run that did not happen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

// config is the command line.
type benchConfig struct {
	netdevdBin, cloudsimBin, sshdBin string
	sshdUser                         string
	runs                             int
	goCount                          int
	goE2E                            bool
	idle                             time.Duration
	execCount, execFloods            int
	fleetN                           int
	fleetShard                       int
	fleetRestart                     bool
	fleetAdmitWindow                 time.Duration
	fleetFlap                        time.Duration
	scriptSessions                   int
	scriptBaselineSessions           int
	scriptLanes                      int
	scriptWait                       time.Duration
	scriptBaselineBin                string
	only                             map[string]bool
	outJSON, outMD                   string
	write                            bool
	repo                             string
}

// measurement names, in table order.
var allMeasurements = []string{"gobench", "config", "failover", "silent", "sshexec", "prompt", "scripts", "idle", "execflood", "netem", "static", "rttrelay", "rttcloud", "rttlease", "rttssh", "fleet"}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("netdevd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c benchConfig
	fs.StringVar(&c.netdevdBin, "netdevd-bin", "bin/netdevd", "the netdevd binary (make build)")
	fs.StringVar(&c.cloudsimBin, "cloudsim-bin", "bin/cloudsim", "the cloudsim binary (make build)")
	fs.StringVar(&c.sshdBin, "sshd-bin", "/usr/sbin/sshd", "OpenSSH's sshd, the SSH baseline")
	fs.StringVar(&c.sshdUser, "sshd-user", "", "account the OpenSSH baseline logs in as (default: first uid ≥ 1000 with a POSIX shell, else root)")
	fs.IntVar(&c.runs, "runs", 21, "runs per timing (each side of an A/B pair)")
	fs.IntVar(&c.goCount, "go-count", 5, "go test -count for the Go benchmarks")
	fs.BoolVar(&c.goE2E, "go-e2e", false, "also run the end-to-end package's benchmarks (./tests), once")
	fs.DurationVar(&c.idle, "idle", 60*time.Second, "idle daemon measurement duration")
	fs.IntVar(&c.execCount, "exec-count", 20000, "execs per flood (execflood)")
	fs.IntVar(&c.execFloods, "exec-floods", 3, "floods (execflood)")
	fs.IntVar(&c.fleetN, "fleet", 10000, "fleet size (0 = skip the fleet)")
	fs.IntVar(&c.fleetShard, "fleet-shard", 4000, "devices per cloudsim+fleet process pair (each device holds 3 sockets; RLIMIT_NOFILE bounds a process)")
	fs.BoolVar(&c.fleetRestart, "fleet-restart", true, "also restart the controllers with the fleet connected (once without, once with admission control) and record the reconnection curves")
	fs.DurationVar(&c.fleetAdmitWindow, "fleet-admit-window", 40*time.Second, "cloudsim --admit-window for the second restart")
	fs.DurationVar(&c.fleetFlap, "fleet-flap", 180*time.Second, "last, the controllers close every connection just after Established for this long; authentications counted (0 = skip)")
	fs.IntVar(&c.scriptSessions, "script-sessions", 1000, "script sessions per pattern (scripts)")
	fs.IntVar(&c.scriptLanes, "script-lanes", 4, "script sessions run side by side, each lane one session after the other")
	fs.DurationVar(&c.scriptWait, "script-wait", 5*time.Second, "a script session's wait for each output it expects before it counts as lost")
	fs.StringVar(&c.scriptBaselineBin, "script-baseline-bin", "", "another netdevd build (e.g. before a fix) to run the script sessions on side by side")
	fs.IntVar(&c.scriptBaselineSessions, "script-baseline-sessions", 200, "script sessions per pattern on --script-baseline-bin")
	only := fs.String("only", "", "comma-separated subset of: "+strings.Join(allMeasurements, ","))
	fs.StringVar(&c.outJSON, "results", "bench/results.json", "results JSON file")
	fs.StringVar(&c.outMD, "markdown", "docs/benchmarks.md", "markdown report file")
	fs.BoolVar(&c.write, "write", true, "write the results and markdown files")
	fs.StringVar(&c.repo, "repo", ".", "repository root (for the Go benchmarks)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "netdevd-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if c.scriptSessions < 1 || c.scriptLanes < 1 || c.scriptLanes > 16 || c.scriptBaselineSessions < 0 {
		fmt.Fprintln(stderr, "netdevd-bench: --script-sessions ≥ 1, 1 ≤ --script-lanes ≤ 16 (the VTY lines), --script-baseline-sessions ≥ 0")
		return 2
	}
	if c.runs < 3 {
		fmt.Fprintln(stderr, "netdevd-bench: --runs must be at least 3")
		return 2
	}
	if c.execCount < 1 || c.execCount > controller.MaxFloodCount || c.execFloods < 1 {
		fmt.Fprintf(stderr, "netdevd-bench: --exec-count must be 1-%d and --exec-floods at least 1\n", controller.MaxFloodCount)
		return 2
	}
	c.only = map[string]bool{}
	if *only != "" {
		for _, m := range strings.Split(*only, ",") {
			m = strings.TrimSpace(m)
			if !contains(allMeasurements, m) {
				fmt.Fprintf(stderr, "netdevd-bench: unknown measurement %q (one of %s)\n", m, strings.Join(allMeasurements, ","))
				return 2
			}
			c.only[m] = true
		}
	} else {
		for _, m := range allMeasurements {
			c.only[m] = true
		}
	}
	if c.scriptBaselineBin == "" {
		c.scriptBaselineSessions = 0
	}
	for _, p := range []*string{&c.netdevdBin, &c.cloudsimBin, &c.scriptBaselineBin} {
		if *p == "" {
			continue
		}
		if a, err := filepath.Abs(*p); err == nil {
			*p = a
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	res := &Results{Machine: machine(), Started: time.Now().UTC()}
	steps := []struct {
		name string
		f    func(context.Context, *benchConfig) ([]Row, error)
	}{
		{"gobench", goBenchmarks},
		{"config", benchConfigToEstablished},
		{"failover", benchFailover},
		{"silent", benchSilent},
		{"sshexec", benchSSHExec},
		{"prompt", benchPrompt},
		{"scripts", benchScripts},
		{"idle", benchIdle},
		{"execflood", benchExecFlood},
		{"netem", benchNetem},
		{"static", benchStatic}, // staticbench.go
		{"rttrelay", benchRelayOverhead},
		{"rttcloud", benchRTTCloud},
		{"rttlease", benchRTTLease},
		{"rttssh", benchRTTSSH},
		{"fleet", benchFleet},
	}
	for _, s := range steps {
		if !c.only[s.name] {
			continue
		}
		fmt.Fprintf(stderr, "bench: %s …\n", s.name)
		start := time.Now()
		rows, err := s.f(ctx, &c)
		if err == nil && ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		if err != nil {
			// Loud, and without a table: a half-filled table reads like results.
			fmt.Fprintf(stderr, "bench: FAILED %s: %v\nbench: no results printed or written\n", s.name, err)
			return 1
		}
		for i := range rows {
			if err := rows[i].check(); err != nil {
				fmt.Fprintf(stderr, "bench: FAILED %s: internal: %v\n", s.name, err)
				return 1
			}
		}
		fmt.Fprintf(stderr, "bench: %s done in %.1fs\n", s.name, time.Since(start).Seconds())
		res.Rows = append(res.Rows, rows...)
	}
	res.Finished = time.Now().UTC()
	fmt.Fprint(stdout, res.Table())
	if c.write {
		if err := res.write(c.outJSON, c.outMD); err != nil {
			fmt.Fprintf(stderr, "bench: writing results: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "bench: wrote %s and %s\n", c.outJSON, c.outMD)
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

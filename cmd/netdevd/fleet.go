package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/netdevd/netdevd/cmd/netdevd/fleet"
	"github.com/netdevd/netdevd/internal/logging"
	"github.com/netdevd/netdevd/internal/profiling"
)

// runFleet is `netdevd fleet`: N virtual devices (cloud connection only)
// in one process, for scale tests against cloudsim.
func runFleet(args []string) error {
	o, err := parseFleetFlags(args)
	if err != nil {
		return err
	}
	if o.writeSerials != "" {
		if err := fleet.WriteSerials(o.writeSerials, o.prefix, o.count); err != nil {
			return fmt.Errorf("--write-serials: %w", err)
		}
		if o.controllers == "" {
			return nil // alone: write and exit
		}
	}
	fl, err := o.newFleet()
	if err != nil {
		return err
	}
	ctx, stop := o.runContext()
	defer stop()
	stopProfile, err := profiling.Start(o.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	return o.report(o.run(ctx, fl))
}

// fleetFlags are the command line of `netdevd fleet`.
type fleetFlags struct {
	count                    int
	controllers, prefix      string
	caFile                   string
	insecure                 bool
	duration, reportInterval time.Duration
	keepalive, ping          int
	ramp                     time.Duration
	writeSerials, jsonOut    string
	exitAll                  bool
	level                    string
	cpuProfile, memProfile   string
}

// parseFleetFlags parses and checks the flags; it does not touch the
// controllers or the files named.
func parseFleetFlags(args []string) (*fleetFlags, error) {
	o := &fleetFlags{}
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.count, "count", 100, "number of virtual devices")
	fs.StringVar(&o.controllers, "controller", "", "controller URL https://HOST[:PORT] (comma-separated: devices spread round-robin)")
	fs.StringVar(&o.prefix, "serial-prefix", "FLEET", "serial prefix: device i has serial PREFIX%06d, i from 1")
	fs.StringVar(&o.caFile, "ca-file", "", "extra trust anchors (PEM) for the controller's certificate (cloudsim: TLSDIR/ca.pem)")
	fs.BoolVar(&o.insecure, "insecure", false, "skip certificate verification (explicit lab choice)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0 = until SIGINT/SIGTERM)")
	fs.DurationVar(&o.reportInterval, "report-interval", 60*time.Second, "telemetry report interval of each device")
	fs.IntVar(&o.keepalive, "keepalive", 0, "keepalive interval in seconds (0 = device default 180)")
	fs.IntVar(&o.ping, "ping", 0, "ping interval in seconds (0 = device default 60)")
	fs.DurationVar(&o.ramp, "ramp", 0, "spread the devices' start over this long (0 = all at once)")
	fs.StringVar(&o.writeSerials, "write-serials", "", "write the serials to FILE for `cloudsim run --serials FILE` (alone: write and exit)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the final report as JSON to FILE")
	fs.BoolVar(&o.exitAll, "exit-when-established", false, "stop as soon as every device is Established and the memory figures are taken (all Established for 2 s, a telemetry report acknowledged per device)")
	fs.StringVar(&o.level, "log-level", "error", "debug|info|warn|error (zap, stderr)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) to FILE until exit")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile (pprof) to FILE when every device is first Established")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.count < 1 || o.count > 999999 {
		return nil, fmt.Errorf("invalid --count %d: 1-999999", o.count)
	}
	if o.prefix == "" || strings.ContainsAny(o.prefix, " \t\n") {
		return nil, fmt.Errorf("invalid --serial-prefix %q", o.prefix)
	}
	if o.reportInterval < time.Second {
		return nil, fmt.Errorf("invalid --report-interval %v: at least 1s", o.reportInterval)
	}
	return o, nil
}

// newFleet prepares the devices for the controllers given.
func (o *fleetFlags) newFleet() (*fleet.Fleet, error) {
	if o.controllers == "" {
		return nil, errors.New("no --controller URL")
	}
	var targets []fleet.Target
	for _, raw := range strings.Split(o.controllers, ",") {
		t, err := fleet.ParseTarget(strings.TrimSpace(raw))
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	pool, err := o.rootCAs()
	if err != nil {
		return nil, err
	}
	zl, err := logging.New("console", o.level)
	if err != nil {
		return nil, err
	}
	return fleet.New(fleet.Options{Count: o.count, SerialPrefix: o.prefix, Targets: targets,
		RootCAs: pool, InsecureSkipVerify: o.insecure, ReportInterval: o.reportInterval,
		Keepalive: o.keepalive, Ping: o.ping, Ramp: o.ramp, Zap: zl})
}

// rootCAs is the system pool plus --ca-file.
func (o *fleetFlags) rootCAs() (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if o.caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", o.caFile)
	}
	return pool, nil
}

// runContext ends at SIGINT or SIGTERM, or after --duration.
func (o *fleetFlags) runContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	if o.duration <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	return ctx, func() { cancel(); stop() }
}

// run runs the fleet until ctx ends (or, with --exit-when-established, it
// settles), printing a sample line every second, and returns the final
// report once every device has stopped.
func (o *fleetFlags) run(ctx context.Context, fl *fleet.Fleet) fleet.Report {
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	done := make(chan struct{})
	go func() { defer close(done); fl.Run(runCtx) }()

	fmt.Printf("fleet: %d devices, serials %s..%s, controllers %s\n", o.count,
		fleet.Serial(o.prefix, 1), fleet.Serial(o.prefix, o.count), o.controllers)
	o.sample(runCtx, fl)
	rep := fl.Final(fl.Sample())
	cancelRun()
	<-done
	return rep
}

// sample prints the fleet's counts every second until ctx ends or, with
// --exit-when-established, the fleet settles; it writes --memprofile once
// it has settled.
func (o *fleetFlags) sample(ctx context.Context, fl *fleet.Fleet) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		last := fl.Sample()
		fmt.Println(last.Line())
		if o.memProfile != "" && last.Settled {
			if err := profiling.WriteHeap(o.memProfile); err != nil {
				fmt.Fprintln(os.Stderr, "fleet:", err)
			}
			o.memProfile = ""
		}
		if o.exitAll && last.Settled {
			return
		}
	}
}

// report prints the final report, and writes it as JSON with --json.
func (o *fleetFlags) report(rep fleet.Report) error {
	fmt.Print(rep.Text())
	if o.jsonOut == "" {
		return nil
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}

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
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	count := fs.Int("count", 100, "number of virtual devices")
	controllers := fs.String("controller", "", "controller URL https://HOST[:PORT] (comma-separated: devices spread round-robin)")
	prefix := fs.String("serial-prefix", "FLEET", "serial prefix: device i has serial PREFIX%06d, i from 1")
	caFile := fs.String("ca-file", "", "extra trust anchors (PEM) for the controller's certificate (cloudsim: TLSDIR/ca.pem)")
	insecure := fs.Bool("insecure", false, "skip certificate verification (explicit lab choice)")
	duration := fs.Duration("duration", 0, "stop after this long (0 = until SIGINT/SIGTERM)")
	reportInterval := fs.Duration("report-interval", 60*time.Second, "telemetry report interval of each device")
	keepalive := fs.Int("keepalive", 0, "keepalive interval in seconds (0 = device default 180)")
	ping := fs.Int("ping", 0, "ping interval in seconds (0 = device default 60)")
	ramp := fs.Duration("ramp", 0, "spread the devices' start over this long (0 = all at once)")
	writeSerials := fs.String("write-serials", "", "write the serials to FILE for `cloudsim run --serials FILE` (alone: write and exit)")
	jsonOut := fs.String("json", "", "also write the final report as JSON to FILE")
	exitAll := fs.Bool("exit-when-established", false, "stop as soon as every device is Established and the memory figures are taken (all Established for 2 s, a telemetry report acknowledged per device)")
	level := fs.String("log-level", "error", "debug|info|warn|error (zap, stderr)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to FILE until exit")
	memProfile := fs.String("memprofile", "", "write a heap profile (pprof) to FILE when every device is first Established")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *count < 1 || *count > 999999 {
		return fmt.Errorf("invalid --count %d: 1-999999", *count)
	}
	if *prefix == "" || strings.ContainsAny(*prefix, " \t\n") {
		return fmt.Errorf("invalid --serial-prefix %q", *prefix)
	}
	if *reportInterval < time.Second {
		return fmt.Errorf("invalid --report-interval %v: at least 1s", *reportInterval)
	}
	if *writeSerials != "" {
		if err := fleet.WriteSerials(*writeSerials, *prefix, *count); err != nil {
			return fmt.Errorf("--write-serials: %w", err)
		}
		if *controllers == "" {
			return nil
		}
	}
	if *controllers == "" {
		return errors.New("no --controller URL")
	}
	var targets []fleet.Target
	for _, raw := range strings.Split(*controllers, ",") {
		t, err := fleet.ParseTarget(strings.TrimSpace(raw))
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca-file %s: no PEM certificate in it", *caFile)
		}
	}
	zl, err := logging.New("console", *level)
	if err != nil {
		return err
	}
	fl, err := fleet.New(fleet.Options{Count: *count, SerialPrefix: *prefix, Targets: targets,
		RootCAs: pool, InsecureSkipVerify: *insecure, ReportInterval: *reportInterval,
		Keepalive: *keepalive, Ping: *ping, Ramp: *ramp, Zap: zl})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	stopProfile, err := profiling.Start(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	done := make(chan struct{})
	go func() { defer close(done); fl.Run(runCtx) }()

	fmt.Printf("fleet: %d devices, serials %s..%s, controllers %s\n", *count,
		fleet.Serial(*prefix, 1), fleet.Serial(*prefix, *count), *controllers)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last fleet.Counts
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-tick.C:
			last = fl.Sample()
			fmt.Println(last.Line())
			if *memProfile != "" && last.Settled {
				if err := profiling.WriteHeap(*memProfile); err != nil {
					fmt.Fprintln(os.Stderr, "fleet:", err)
				}
				*memProfile = ""
			}
			if *exitAll && last.Settled {
				break loop
			}
		}
	}
	last = fl.Sample()
	rep := fl.Final(last)
	cancelRun()
	<-done
	fmt.Print(rep.Text())
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

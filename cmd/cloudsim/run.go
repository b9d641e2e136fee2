package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/profiling"
)

// listFlag is a repeatable flag; each value may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// newFlagSet returns a flag set whose errors are one clear line.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("cloudsim "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return exitError(0)
		}
		return err
	}
	return nil
}

// maxAdmitWindow bounds --admit-window: a fleet kept out longer than this
// after a restart is an outage, not a pacing.
const maxAdmitWindow = 10 * time.Minute

func cmdRun(args []string) error {
	fs := newFlagSet("run")
	listen := fs.String("listen", ":19443", "protocol listen address")
	adminListen := fs.String("admin-listen", "127.0.0.1:19480", "admin HTTP listen address, loopback only (\"none\" = no admin endpoint)")
	tlsDir := fs.String("tls-dir", "cloudsim-tls", "directory for ca.pem and server.pem (made if absent)")
	serialsFile := fs.String("serials", "", "file of serials, one per line (# comments)")
	plain := fs.Bool("plain", false, "lab mode: plain http:// and ws:// (no TLS)")
	ttl := fs.Duration("token-ttl", 300*time.Second, "token lifetime")
	admitWindow := fs.Duration("admit-window", 0, "admit the whole fleet over this time, at least 50 sessions/s (0 = no admission control, max 10m)")
	logLevel := fs.String("log-level", "info", "debug|info|warn|error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to FILE until exit")
	var serials, sans, domains, bound listFlag
	fs.Var(&serials, "serial", "serial number added to the controller (repeatable, comma-separated)")
	fs.Var(&sans, "san", "certificate SAN, name or IP (repeatable; default localhost,127.0.0.1)")
	fs.Var(&domains, "domain", "server domain name, added to the SANs (repeatable)")
	fs.Var(&bound, "bound", "SN=CODE: serial bound elsewhere with its unbinding code (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		return fmt.Errorf("invalid --listen %q: %v", *listen, err)
	}
	if *adminListen == "none" {
		*adminListen = ""
	}
	if *adminListen != "" {
		host, _, err := net.SplitHostPort(*adminListen)
		if err != nil {
			return fmt.Errorf("invalid --admin-listen %q: %v", *adminListen, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("invalid --admin-listen %q: must be a loopback address", *adminListen)
		}
	}
	var level zapcore.Level
	if err := level.Set(*logLevel); err != nil {
		return fmt.Errorf("invalid --log-level %q", *logLevel)
	}
	if *ttl < time.Second {
		return fmt.Errorf("invalid --token-ttl %v: at least 1s", *ttl)
	}
	if *admitWindow < 0 || *admitWindow > maxAdmitWindow {
		return fmt.Errorf("invalid --admit-window %v: between 0 and %v", *admitWindow, maxAdmitWindow)
	}
	if *serialsFile != "" {
		f, err := os.Open(*serialsFile)
		if err != nil {
			return fmt.Errorf("invalid --serials: %v", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line != "" && !strings.HasPrefix(line, "#") {
				serials = append(serials, line)
			}
		}
		f.Close()
	}
	boundMap := map[string]string{}
	for _, b := range bound {
		sn, code, ok := strings.Cut(b, "=")
		if !ok || sn == "" || code == "" {
			return fmt.Errorf("invalid --bound %q: want SN=CODE", b)
		}
		boundMap[sn] = code
	}
	if len(serials) == 0 && len(boundMap) == 0 {
		return errors.New("no serials: give --serial SN or --serials FILE")
	}
	if len(sans) == 0 {
		sans = listFlag{"localhost", "127.0.0.1"}
	}
	sans = append(sans, domains...)

	zcfg := zap.NewProductionConfig()
	zcfg.Level = zap.NewAtomicLevelAt(level)
	zcfg.Encoding = "console"
	zcfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zl, err := zcfg.Build()
	if err != nil {
		return err
	}
	defer zl.Sync()

	srv := controller.New(controller.Config{Serials: serials, Bound: boundMap, TokenTTL: *ttl,
		Plain: *plain, Log: zl, AdmitWindow: *admitWindow})
	tlsConf, err := controller.EnsureTLS(*tlsDir, sans)
	if err != nil {
		return fmt.Errorf("TLS files in %s: %v", *tlsDir, err)
	}
	if *plain {
		tlsConf = nil
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile, err := profiling.Start(*cpuProfile)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopProfile()
	var admin *http.Server
	if *adminListen != "" {
		al, err := net.Listen("tcp", *adminListen)
		if err != nil {
			ln.Close()
			return err
		}
		admin = &http.Server{Handler: adminMux(srv.AdminHandler()), ReadHeaderTimeout: 10 * time.Second}
		go admin.Serve(al)
		fmt.Printf("cloudsim admin on %s\n", al.Addr())
	}
	fmt.Printf("cloudsim listening on %s (CA %s/%s)\n", ln.Addr(), *tlsDir, controller.CAFile)
	err = srv.Serve(ctx, ln, tlsConf)
	if admin != nil {
		admin.Close()
	}
	return err
}

// adminMux adds the Go profiler (/debug/pprof/) to the admin endpoint, which
// listens on loopback only: scale runs are profiled on the real binary.
func adminMux(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/free-os-memory", freeOSMemory)
	mux.Handle("/", api)
	return mux
}

// freeOSMemory collects garbage and returns free memory to the OS, then
// reports what stays in use: the bench measures the controller's memory per
// device after it, as the fleet does on its side (cmd/netdevd/fleet).
func freeOSMemory(w http.ResponseWriter, _ *http.Request) {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"heap_inuse": ms.HeapInuse, "stack_inuse": ms.StackInuse,
		"goroutines": runtime.NumGoroutine()})
}

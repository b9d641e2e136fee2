package main

import (
	"bufio"
	"context"
	"crypto/tls"
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

// cmdRun is `cloudsim run`: serve protocol v1 (and the admin endpoint)
// until SIGINT or SIGTERM.
func cmdRun(args []string) error {
	o, err := parseRunFlags(args)
	if err != nil {
		return err
	}
	zl, err := newLogger(o.level)
	if err != nil {
		return err
	}
	defer zl.Sync()
	srv := controller.New(controller.Config{Serials: o.serials, Bound: o.bound, TokenTTL: o.ttl,
		Plain: o.plain, Log: zl, AdmitWindow: o.admitWindow})
	tlsConf, err := controller.EnsureTLS(o.tlsDir, o.sans)
	if err != nil {
		return fmt.Errorf("TLS files in %s: %v", o.tlsDir, err)
	}
	if o.plain {
		tlsConf = nil
	}
	return o.serve(srv, tlsConf)
}

// runFlags is the checked command line of `cloudsim run`.
type runFlags struct {
	listen, adminListen string // adminListen "": no admin endpoint
	tlsDir              string
	plain               bool
	ttl, admitWindow    time.Duration
	level               zapcore.Level
	cpuProfile          string
	serials, sans       []string
	bound               map[string]string // serial → unbinding code
}

// parseRunFlags parses and checks the flags, and reads --serials.
func parseRunFlags(args []string) (*runFlags, error) {
	o := &runFlags{}
	fs := newFlagSet("run")
	fs.StringVar(&o.listen, "listen", ":19443", "protocol listen address")
	fs.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:19480", "admin HTTP listen address, loopback only (\"none\" = no admin endpoint)")
	fs.StringVar(&o.tlsDir, "tls-dir", "cloudsim-tls", "directory for ca.pem and server.pem (made if absent)")
	serialsFile := fs.String("serials", "", "file of serials, one per line (# comments)")
	fs.BoolVar(&o.plain, "plain", false, "lab mode: plain http:// and ws:// (no TLS)")
	fs.DurationVar(&o.ttl, "token-ttl", 300*time.Second, "token lifetime")
	fs.DurationVar(&o.admitWindow, "admit-window", 0, "admit the whole fleet over this time, at least 50 sessions/s (0 = no admission control, max 10m)")
	logLevel := fs.String("log-level", "info", "debug|info|warn|error")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) to FILE until exit")
	var serials, sans, domains, bound listFlag
	fs.Var(&serials, "serial", "serial number added to the controller (repeatable, comma-separated)")
	fs.Var(&sans, "san", "certificate SAN, name or IP (repeatable; default localhost,127.0.0.1)")
	fs.Var(&domains, "domain", "server domain name, added to the SANs (repeatable)")
	fs.Var(&bound, "bound", "SN=CODE: serial bound elsewhere with its unbinding code (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := o.check(*logLevel); err != nil {
		return nil, err
	}
	if err := o.setDevices(*serialsFile, serials, bound); err != nil {
		return nil, err
	}
	if len(sans) == 0 {
		sans = listFlag{"localhost", "127.0.0.1"}
	}
	o.sans = append(sans, domains...)
	return o, nil
}

// check checks the addresses, the log level and the durations.
func (o *runFlags) check(logLevel string) error {
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return fmt.Errorf("invalid --listen %q: %v", o.listen, err)
	}
	if o.adminListen == "none" {
		o.adminListen = ""
	}
	if o.adminListen != "" {
		host, _, err := net.SplitHostPort(o.adminListen)
		if err != nil {
			return fmt.Errorf("invalid --admin-listen %q: %v", o.adminListen, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("invalid --admin-listen %q: must be a loopback address", o.adminListen)
		}
	}
	if err := o.level.Set(logLevel); err != nil {
		return fmt.Errorf("invalid --log-level %q", logLevel)
	}
	if o.ttl < time.Second {
		return fmt.Errorf("invalid --token-ttl %v: at least 1s", o.ttl)
	}
	if o.admitWindow < 0 || o.admitWindow > maxAdmitWindow {
		return fmt.Errorf("invalid --admit-window %v: between 0 and %v", o.admitWindow, maxAdmitWindow)
	}
	return nil
}

// setDevices sets the inventory: --serial, the serials in --serials FILE
// and the --bound SN=CODE pairs.
func (o *runFlags) setDevices(serialsFile string, serials, bound listFlag) error {
	if serialsFile != "" {
		more, err := readSerials(serialsFile)
		if err != nil {
			return fmt.Errorf("invalid --serials: %v", err)
		}
		serials = append(serials, more...)
	}
	o.serials = serials
	o.bound = map[string]string{}
	for _, b := range bound {
		sn, code, ok := strings.Cut(b, "=")
		if !ok || sn == "" || code == "" {
			return fmt.Errorf("invalid --bound %q: want SN=CODE", b)
		}
		o.bound[sn] = code
	}
	if len(o.serials) == 0 && len(o.bound) == 0 {
		return errors.New("no serials: give --serial SN or --serials FILE")
	}
	return nil
}

// readSerials reads a file of serials, one per line; blank lines and
// # comments are skipped.
func readSerials(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var serials []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			serials = append(serials, line)
		}
	}
	return serials, nil
}

// newLogger is the console logger at level, ISO 8601 times.
func newLogger(level zapcore.Level) (*zap.Logger, error) {
	zcfg := zap.NewProductionConfig()
	zcfg.Level = zap.NewAtomicLevelAt(level)
	zcfg.Encoding = "console"
	zcfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zcfg.Build()
}

// serve listens on --listen (and --admin-listen) and serves srv until
// SIGINT or SIGTERM.
func (o *runFlags) serve(srv *controller.Server, tlsConf *tls.Config) error {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile, err := profiling.Start(o.cpuProfile)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopProfile()
	admin, err := o.startAdmin(srv)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Printf("cloudsim listening on %s (CA %s/%s)\n", ln.Addr(), o.tlsDir, controller.CAFile)
	err = srv.Serve(ctx, ln, tlsConf)
	if admin != nil {
		admin.Close()
	}
	return err
}

// startAdmin serves the admin endpoint on --admin-listen; nil when there
// is none.
func (o *runFlags) startAdmin(srv *controller.Server) (*http.Server, error) {
	if o.adminListen == "" {
		return nil, nil
	}
	al, err := net.Listen("tcp", o.adminListen)
	if err != nil {
		return nil, err
	}
	admin := &http.Server{Handler: adminMux(srv.AdminHandler()), ReadHeaderTimeout: 10 * time.Second}
	go admin.Serve(al)
	fmt.Printf("cloudsim admin on %s\n", al.Addr())
	return admin, nil
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

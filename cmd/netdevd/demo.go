package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/internal/logging"
)

// demoDomain is the controller's name in the demo; `ip host` maps it to
// loopback, so no DNS is involved, and the certificate carries the name.
const demoDomain = "cloud.demo.netdevd"

// runDemo is `make run`: a fresh device and an embedded controller on
// loopback, joined over real TLS with a generated CA.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sshListen := fs.String("ssh-listen", "127.0.0.1:2222", "SSH listen address of the demo device")
	level := fs.String("log-level", "warn", "debug|info|warn|error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	zl, err := logging.New("console", *level)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "netdevd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ctrl, ctrlAddr, ctrlDone, err := startDemoController(ctx, filepath.Join(dir, "cloudsim"))
	if err != nil {
		return err
	}
	pw, pwFile, err := demoPassword(dir)
	if err != nil {
		return err
	}
	d, err := daemon.New(daemon.Options{
		DataDir: filepath.Join(dir, "flash"), SSHListen: *sshListen, Zap: zl,
		CAFile:            filepath.Join(dir, "cloudsim", controller.CAFile),
		AdminPasswordFile: pwFile,
	})
	if err != nil {
		return err
	}
	os.Remove(pwFile)
	ctrl.AddSerial(d.Serial(), "")
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()

	start := time.Now()
	out, ok := d.RunLines(ctx, "system-view",
		"ip host "+demoDomain+" 127.0.0.1",
		fmt.Sprintf("cloud-management server port %d", ctrlAddr.Port),
		"cloud-management server domain "+demoDomain)
	if !ok {
		return fmt.Errorf("configuring the demo device failed:\n%s", out)
	}
	took, established := waitEstablished(ctx, d, 5*time.Second)
	_ = took
	printBanner(d, *sshListen, pw, ctrlAddr, time.Since(start), established)
	err = <-runErr
	<-ctrlDone
	return err
}

func startDemoController(ctx context.Context, tlsDir string) (*controller.Server, *net.TCPAddr, <-chan struct{}, error) {
	tlsConf, err := controller.EnsureTLS(tlsDir, []string{demoDomain, "localhost", "127.0.0.1"})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("controller TLS: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, err
	}
	srv := controller.New(controller.Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, ln, tlsConf)
	}()
	return srv, ln.Addr().(*net.TCPAddr), done, nil
}

// demoPassword makes a random admin password and the first-boot file that
// hands it to the daemon.
func demoPassword(dir string) (string, string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 14)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	path := filepath.Join(dir, "admin-password")
	return string(b), path, os.WriteFile(path, b, 0o600)
}

// waitEstablished polls the device's own status until Established.
func waitEstablished(ctx context.Context, d *daemon.Daemon, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		if d.CloudStatus().ConnState == "Established" {
			return time.Since(start), true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start), false
}

func printBanner(d *daemon.Daemon, sshAddr, pw string, ctrl *net.TCPAddr, sinceConfig time.Duration, ok bool) {
	host, port, _ := net.SplitHostPort(sshAddr)
	state := cli.CloudManagementState(d.CloudStatus(), time.Local)
	verdict := fmt.Sprintf("Established %v after the configuration was typed.", sinceConfig.Round(time.Millisecond))
	if !ok {
		verdict = "NOT Established within 5 s — see Failure reason below."
	}
	fmt.Printf(`
netdevd demo — a device joined to an embedded cloud controller on loopback.

  Device serial : %s
  Controller    : https://%s:%d (ip host %s -> 127.0.0.1, TLS with a demo CA)
  Cloud state   : %s

Log in as a network engineer would:

  ssh -p %s admin@%s
  password: %s

Then try:  display cloud-management state   |   system-view   |   ?

<%s>display cloud-management state
%s
Press Ctrl+C to stop the demo (everything it made is removed).
`, d.Serial(), demoDomain, ctrl.Port, demoDomain, verdict, port, host, pw, d.Sysname(), strings.TrimRight(state, "\n"))
}

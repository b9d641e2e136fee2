// Command netdevd-package builds the Debian packages netdevd and
// netdevd-cloudsim for amd64 and arm64 (`make package`): it cross-compiles
// static, stripped binaries with the Go toolchain and writes the .deb files
// with nfpm, used as a library. The version comes from git (see version.go
// and docs/operations.md) unless -version gives one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "netdevd-package: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	debs, err := build(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "netdevd-package: %v\n", err)
		os.Exit(1)
	}
	for _, d := range debs {
		fmt.Printf("%s (%d bytes; /usr/bin/%s %d bytes)\n", d.Path, d.Size, d.Program, d.ProgramSize)
	}
}

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("netdevd-package", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.OutDir, "out", "dist", "directory the .deb files are written to")
	fs.StringVar(&o.Version, "version", "", "upstream version (default: derived from git)")
	fs.StringVar(&o.Revision, "revision", "1", "Debian revision")
	fs.StringVar(&o.Maintainer, "maintainer", defaultMaintainer, "the Maintainer field")
	archs := fs.String("arch", "amd64,arm64", "comma-separated Debian architectures")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.Archs = strings.Split(*archs, ",")
	return o, nil
}

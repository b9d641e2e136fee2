package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/netdevd/netdevd/cmd/netdevd/daemon"
	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
)

func apiClient(dataDir string) *localapi.Client {
	return localapi.NewClient(daemon.SocketPath(dataDir), os.Getenv(daemon.EnvSession))
}

func runExec(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", defaultDataDir, "the daemon's data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no command lines given")
	}
	c := apiClient(*dataDir)
	defer c.Close()
	out, ok, err := c.Exec(context.Background(), fs.Args())
	if err != nil {
		return err
	}
	fmt.Print(out)
	if !ok {
		return exitCode(1)
	}
	return nil
}

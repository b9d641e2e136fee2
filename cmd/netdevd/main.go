// Command netdevd is the device: the daemon (`run`), its shells (`shell`,
// `exec`), a self-contained demonstration (`demo`) and `version`.
package main

import (
	"fmt"
	"os"

	"github.com/netdevd/netdevd/internal/version"
)

const usage = `usage: netdevd <command> [flags]

commands:
  run      the device daemon
  shell    interactive CLI on this terminal (console access)
  exec     run CLI lines as one session from user view, print, exit non-zero on error
  demo     device + embedded controller on loopback; prints how to log in
  fleet    N virtual devices (full cloud clients) against a controller, for scale tests
  version  print the software version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "run":
		err = runDaemon(args)
	case "shell":
		err = runShell(args)
	case "exec":
		err = runExec(args)
	case "demo":
		err = runDemo(args)
	case "fleet":
		err = runFleet(args)
	case "version":
		fmt.Printf("netdevd %s (%s)\n", version.Version, version.Model)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "netdevd: unknown command %q\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		if code, ok := err.(exitCode); ok {
			os.Exit(int(code))
		}
		fmt.Fprintf(os.Stderr, "netdevd %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// exitCode ends the program with a status and no message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

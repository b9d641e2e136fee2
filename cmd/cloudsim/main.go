// Command cloudsim is the reference cloud controller for protocol v1 (see
// docs/protocol.md) plus a small client for its admin endpoint.
//
//	cloudsim run     --listen ADDR --serial SN… | --serials FILE --tls-dir DIR [--admin-listen ADDR] …
//	cloudsim devices --admin ADDR
//	cloudsim exec    --admin ADDR --serial SN LINE…
//	cloudsim flood   --admin ADDR --serial SN --count N LINE…
//	cloudsim reports --admin ADDR --serial SN --service SVC
//	cloudsim fault   --admin ADDR [KEY=VALUE…]
//	cloudsim inject  --admin ADDR [--serial SN] KIND
//	cloudsim close   --admin ADDR [--serial SN]
package main

import (
	"fmt"
	"os"
)

const usage = `usage: cloudsim COMMAND [flags]
commands:
  run       serve protocol v1 (and the admin endpoint)
  devices   list devices known to a running cloudsim
  exec      run CLI lines on a device, print the output (exit 1 if not ok)
  flood     send N execs at once, wait for every answer, check their order (exit 1 if not all in order)
  reports   print the reports a device sent on one service
  fault     show or set injected faults (KEY=VALUE…)
  inject    send a misbehaviour to connected devices (malformed, unknown-type, oversize, oversize-8mib, binary, missing-field, reregister, close, close-subs)
  close     close device connections
Run "cloudsim COMMAND -h" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "run":
		err = cmdRun(args)
	case "devices":
		err = cmdDevices(args)
	case "exec":
		err = cmdExec(args)
	case "flood":
		err = cmdFlood(args)
	case "reports":
		err = cmdReports(args)
	case "fault", "faults":
		err = cmdFault(args)
	case "inject":
		err = cmdInject(args)
	case "close":
		err = cmdClose(args)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "cloudsim: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if e, ok := err.(exitError); ok {
			os.Exit(int(e))
		}
		fmt.Fprintf(os.Stderr, "cloudsim %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// exitError ends the program with a status and no message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

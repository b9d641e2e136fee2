package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

func adminFlag(fs *flag.FlagSet) *string {
	return fs.String("admin", "127.0.0.1:19480", "admin endpoint address of a running cloudsim")
}

var httpc = &http.Client{Timeout: 120 * time.Second}

// call does one admin request and decodes the JSON answer into out.
func call(admin, method, path string, in, out any) error {
	return callWith(httpc, admin, method, path, in, out)
}

func callWith(hc *http.Client, admin, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+admin+path, body)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("admin answered HTTP %d", resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func cmdDevices(args []string) error {
	fs := newFlagSet("devices")
	admin := adminFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var devs []controller.DeviceInfo
	if err := call(*admin, "GET", "/devices", nil, &devs); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(devs)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tSYSNAME\tSTATE\tREMOTE\tSINCE\tAUTHS\tKEEPALIVES\tSUBCONNS\tREPORTS")
	for _, d := range devs {
		state, since := "down", ""
		if d.Connected {
			state, since = "up", d.ConnectedAt.Format(time.RFC3339)
		}
		var reps []string
		for svc, r := range d.Reports {
			reps = append(reps, fmt.Sprintf("%s=%d(last %d, dup %d)", svc, r.Received, r.LastSeq, r.Duplicates))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.Serial, d.Sysname, state, d.Remote, since,
			d.Auths, d.Keepalives, strings.Join(d.Subconns, ","), strings.Join(reps, " "))
	}
	tw.Flush()
	for _, d := range devs {
		for svc, r := range d.LastReports {
			fmt.Printf("%s last %s report #%d at %s: %s\n", d.Serial, svc, r.Seq, r.Time, r.Data)
		}
	}
	return nil
}

func cmdExec(args []string) error {
	fs := newFlagSet("exec")
	admin := adminFlag(fs)
	serial := fs.String("serial", "", "device serial (required)")
	timeout := fs.Int("timeout", 60, "seconds to wait for the result")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *serial == "" {
		return errors.New("--serial is required")
	}
	if fs.NArg() == 0 {
		return errors.New("no command lines given")
	}
	var res controller.ExecResult
	in := map[string]any{"serial": *serial, "lines": fs.Args(), "timeout_seconds": *timeout}
	if err := call(*admin, "POST", "/exec", in, &res); err != nil {
		return err
	}
	fmt.Print(res.Output)
	if res.Output != "" && !strings.HasSuffix(res.Output, "\n") {
		fmt.Println()
	}
	if !res.OK {
		return exitError(1)
	}
	return nil
}

// cmdFlood is `cloudsim flood`: COUNT execs sent at once (the device's
// backpressure is the only pacing), every answer awaited and checked to
// arrive in order. One summary line, or --json.
func cmdFlood(args []string) error {
	fs := newFlagSet("flood")
	admin := adminFlag(fs)
	serial := fs.String("serial", "", "device serial (required)")
	count := fs.Int("count", 1000, "execs to send (1-"+strconv.Itoa(controller.MaxFloodCount)+")")
	timeout := fs.Int("timeout", 600, "seconds to wait for every answer")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *serial == "":
		return errors.New("--serial is required")
	case fs.NArg() == 0:
		return errors.New("no command lines given")
	case *count < 1 || *count > controller.MaxFloodCount:
		return fmt.Errorf("--count %d out of range 1-%d", *count, controller.MaxFloodCount)
	case *timeout < 1:
		return fmt.Errorf("--timeout %d: want at least 1 second", *timeout)
	}
	var res controller.FloodResult
	in := map[string]any{"serial": *serial, "lines": fs.Args(), "count": *count, "timeout_seconds": *timeout}
	hc := &http.Client{Timeout: time.Duration(*timeout)*time.Second + 30*time.Second}
	if err := callWith(hc, *admin, "POST", "/flood", in, &res); err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Println(string(b))
	} else {
		fmt.Println(floodSummary(res))
	}
	if !res.InOrder || res.Answered != res.Count {
		return exitError(1)
	}
	return nil
}

func floodSummary(r controller.FloodResult) string {
	order := "in order"
	if !r.InOrder {
		order = "NOT in order"
	}
	s := fmt.Sprintf("%s: sent %d of %d execs, %d answered %s (%d ok) in %.2f s", r.Serial, r.Sent, r.Count,
		r.Answered, order, r.OK, r.Seconds)
	if r.Seconds > 0 {
		s += fmt.Sprintf(", %.0f execs/s", float64(r.Answered)/r.Seconds)
	}
	if r.Error != "" {
		s += "; " + r.Error
	}
	return s
}

func cmdReports(args []string) error {
	fs := newFlagSet("reports")
	admin := adminFlag(fs)
	serial := fs.String("serial", "", "device serial (required)")
	service := fs.String("service", "telemetry", "service: telemetry or log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *serial == "" {
		return errors.New("--serial is required")
	}
	var out json.RawMessage
	q := "/reports?serial=" + url.QueryEscape(*serial) + "&service=" + url.QueryEscape(*service)
	if err := call(*admin, "GET", q, nil, &out); err != nil {
		return err
	}
	var buf bytes.Buffer
	json.Indent(&buf, out, "", "  ")
	fmt.Println(buf.String())
	return nil
}

func cmdFault(args []string) error {
	fs := newFlagSet("fault")
	admin := adminFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]any{}
	for _, kv := range fs.Args() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("invalid fault %q: want KEY=VALUE", kv)
		}
		switch k {
		case "drop_keepalive_acks", "drop_pongs", "drop_report_acks", "refuse_upgrade", "silent_accept", "no_subconn":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("invalid fault %s=%q: want true or false", k, v)
			}
			set[k] = b
		case "reject_auth", "reject_register":
			n, err := strconv.Atoi(v)
			if err != nil || (n != 0 && (n < 100 || n > 599)) {
				return fmt.Errorf("invalid fault %s=%q: want 0 or an HTTP status", k, v)
			}
			set[k] = n
		case "main_url_scheme", "on_connect":
			set[k] = v
		default:
			return fmt.Errorf("unknown fault %q", k)
		}
	}
	var f controller.Faults
	method := "GET"
	var in any
	if len(set) > 0 {
		method, in = "POST", set
	}
	if err := call(*admin, method, "/faults", in, &f); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	fmt.Println(string(b))
	return nil
}

func cmdInject(args []string) error {
	fs := newFlagSet("inject")
	admin := adminFlag(fs)
	serial := fs.String("serial", "", "device serial (empty = every connected device)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one KIND: %s", strings.Join(controller.InjectKinds, ", "))
	}
	return call(*admin, "POST", "/inject", map[string]string{"serial": *serial, "kind": fs.Arg(0)}, nil)
}

func cmdClose(args []string) error {
	fs := newFlagSet("close")
	admin := adminFlag(fs)
	serial := fs.String("serial", "", "device serial (empty = every device)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return call(*admin, "POST", "/close", map[string]string{"serial": *serial}, nil)
}

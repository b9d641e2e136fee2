package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

const (
	// netemDelay is added on each end of the veth: a 50 ms round trip.
	netemDelay = 25 * time.Millisecond
	// netemMaxRuns caps --runs: every run boots a device (about 1.5 s).
	netemMaxRuns = 7
	// minRTTs is the protocol's floor from lease to Established: DNS, TCP,
	// TLS 1.3, auth, register, WebSocket upgrade — one round trip each, the
	// last three on the one connection (cloudmgmt/httpconn.go).
	minRTTs = 6
	// netemSkippedName is the row's name when it cannot run.
	netemSkippedName = "lease → Established round trips under netem delay"
)

// benchNetem: round trips from the DHCP lease to Established under tc netem
// delay on the veth of a zero-touch site (netemsite.go), compared with the
// 6-RTT minimum. Runs only where netem exists; otherwise a skipped row says
// why.
func benchNetem(ctx context.Context, c *benchConfig) ([]Row, error) {
	if reason := netemSkip(); reason != "" {
		return []Row{{Name: netemSkippedName, Skipped: reason}}, nil
	}
	ds, err := measureLeaseToEstablished(ctx, c, netemDelay, min(c.runs, netemMaxRuns))
	if err != nil {
		return nil, err
	}
	return netemRows(netemDelay, ds), nil
}

// netemRows: the time per run in ms and in round trips (RTT = 2·delay).
func netemRows(delay time.Duration, ds []time.Duration) []Row {
	rtt := 2 * delay
	var msv, rtts []float64
	for _, d := range ds {
		msv = append(msv, ms(d))
		rtts = append(rtts, float64(d)/float64(rtt))
	}
	label := fmt.Sprintf("RTT %d ms", rtt.Milliseconds())
	inRTT := stat("lease → Established under netem, in round trips", "RTT", rtts)
	return []Row{
		stat("lease → Established under netem ("+label+")", "ms", msv).
			note(fmt.Sprintf("DHCP_BOUND → CLOUD_ESTABLISHED log entries of a factory-booted `netdevd run` in a netns; netem delay %v on both veth ends; fresh device, MAC and link per run", delay)),
		inRTT.target(fmt.Sprintf("≥ %d RTT minimum", minRTTs), 0, false).
			note(fmt.Sprintf("%.2f× the %d-RTT minimum (DNS, TCP, TLS 1.3, auth, register, WebSocket upgrade); the reset link also costs one ARP round trip for the server",
				inRTT.Median/minRTTs, minRTTs)),
	}
}

// netemSkip is why the measurement cannot run here ("" = it can): netem
// itself, then the site's DHCP and DNS server.
func netemSkip() string {
	if reason := netemMissing(); reason != "" {
		return reason
	}
	if _, err := exec.LookPath("dnsmasq"); err != nil {
		return "dnsmasq not installed (the site's DHCP and DNS server)"
	}
	return ""
}

// netemMissing returns why tc netem cannot be used here ("" = it can): it
// tries a netem qdisc on the loopback of a scratch network namespace.
func netemMissing() string {
	if _, err := exec.LookPath("tc"); err != nil {
		return "tc not installed"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "ip not installed"
	}
	const ns = "netdevd-bench-netem"
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return "cannot make a network namespace: " + strings.TrimSpace(string(out))
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	out, err := exec.Command("tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").CombinedOutput()
	if err != nil {
		why := strings.TrimSpace(string(out))
		if _, e := exec.LookPath("modprobe"); e != nil {
			why += "; modprobe not installed"
		} else if o, e := exec.Command("modprobe", "sch_netem").CombinedOutput(); e != nil {
			why += "; modprobe sch_netem: " + strings.TrimSpace(string(o))
		}
		return fmt.Sprintf("netem missing (tc qdisc add … netem: %s)", why)
	}
	return ""
}

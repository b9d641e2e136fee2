package main

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

// The flap phase (docs/protocol.md §6, flap damping): with the fleet
// Established, every controller starts closing each main connection just
// after the upgrade (fault on_connect=close) and closes the connections it
// holds. Each device loses a stable connection (0–1 s jitter), comes back,
// and from then on every connection it gets is broken before it is stable:
// a failed attempt, so it backs off 5–10 s, 10–20 s, … The controllers
// count the authentications per second (GET /auths) for --fleet-flap.

// flapResult is one flap phase.
type flapResult struct {
	at     time.Time
	span   time.Duration
	curve  []int // authentications per second from the trigger, all shards
	first  []int // per device: authentications in the first 10 s
	failed int   // failed attempts (CLOUD_FAILED) during the phase
	// steady is the second (from the trigger) at which the fleet had
	// flapSteadyDowns down events per device; -1 if not within span.
	steady int
}

// flapSteadyDowns: the fleet is flapping steadily once it has seen this many
// CLOUD_DOWN events per device since the trigger — the lost stable
// connection and 3 broken ones, i.e. the 0–1 s return, the 5–10 s and the
// 10–20 s backoffs are behind the average device. Counted in events, not
// seconds: a CPU-bound run delays the waves, it does not change them.
const flapSteadyDowns = 4

// flapFirstWindow is the window of the per-device bound (spec: at most 4
// authentications in the first 10 s).
const flapFirstWindow = 10 * time.Second

func (fr *fleetRun) flap(span time.Duration) (flapResult, error) {
	r := flapResult{span: span}
	before, err := fr.deviceAuths()
	if err != nil {
		return r, err
	}
	sum := func() (failed, down int) {
		for _, s := range fr.shards {
			st := s.state()
			failed, down = failed+st.failed, down+st.down
		}
		return failed, down
	}
	failedBefore, downBefore := sum()
	r.steady = -1
	r.at = time.Now()
	for _, s := range fr.shards {
		var f controller.Faults
		if err := adminCall(s, http.MethodPost, "/faults", map[string]string{"on_connect": "close"}, &f); err != nil {
			return r, err
		}
		var ok map[string]string
		if err := adminCall(s, http.MethodPost, "/close", map[string]string{"serial": ""}, &ok); err != nil {
			return r, err
		}
	}
	fmt.Fprintf(os.Stderr, "bench: flap: every controller closes each connection just after Established, for %v\n", span)
	// the fleet's down count (its per-second lines) marks the steady part
	watch := func() {
		if _, down := sum(); r.steady < 0 && down-downBefore >= flapSteadyDowns*fr.c.fleetN {
			r.steady = int(time.Since(r.at) / time.Second)
		}
	}
	if err := fr.sleepUntil(r.at.Add(flapFirstWindow), watch); err != nil {
		return r, err
	}
	after, err := fr.deviceAuths()
	if err != nil {
		return r, err
	}
	for sn, n := range after {
		r.first = append(r.first, n-before[sn])
	}
	if err := fr.sleepUntil(r.at.Add(span), watch); err != nil {
		return r, err
	}
	perSec := map[int64]int{}
	for _, s := range fr.shards {
		var a controller.AuthInfo
		if err := adminJSON(s, http.MethodGet, "/auths", &a); err != nil {
			return r, err
		}
		for k, n := range a.PerSecond {
			sec, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return r, fmt.Errorf("cloudsim %s /auths: second %q", s.prefix, k)
			}
			perSec[sec] += n
		}
	}
	for sec := r.at.Unix(); sec < r.at.Add(span).Unix(); sec++ {
		r.curve = append(r.curve, perSec[sec])
	}
	failed, _ := sum()
	r.failed = failed - failedBefore
	return r, nil
}

// deviceAuths is every device's authentication count (all shards).
func (fr *fleetRun) deviceAuths() (map[string]int, error) {
	out := map[string]int{}
	for _, s := range fr.shards {
		var devs []controller.DeviceInfo
		if err := adminJSON(s, http.MethodGet, "/devices", &devs); err != nil {
			return nil, err
		}
		for _, d := range devs {
			out[d.Serial] = d.Auths
		}
	}
	if len(out) != fr.c.fleetN {
		return nil, fmt.Errorf("controllers know %d devices, the fleet has %d", len(out), fr.c.fleetN)
	}
	return out, nil
}

// sleepUntil waits for t while every process stays alive, calling each
// every 100 ms.
func (fr *fleetRun) sleepUntil(t time.Time, each func()) error {
	for time.Now().Before(t) {
		if err := fr.alive(); err != nil {
			return err
		}
		if err := fr.ctx.Err(); err != nil {
			return err
		}
		each()
		time.Sleep(min(100*time.Millisecond, time.Until(t)))
	}
	return fr.alive()
}

func flapRows(label string, n int, r flapResult) []Row {
	one := func(name, unit string, v float64) Row { return stat(name, unit, []float64{v}) }
	peak, peakAt := 0, 0
	steadyPeak := 0
	for i, k := range r.curve {
		if k > peak {
			peak, peakAt = k, i
		}
		if r.steady >= 0 && i >= r.steady {
			steadyPeak = max(steadyPeak, k)
		}
	}
	var parts []string
	total := 0
	for _, k := range r.curve {
		parts = append(parts, strconv.Itoa(k))
		total += k
	}
	sort.Ints(r.first)
	maxFirst, sumFirst := r.first[len(r.first)-1], 0
	for _, k := range r.first {
		sumFirst += k
	}
	fault := "controllers close every main connection just after Established (cloudsim fault on_connect=close), no admission control"
	rows := []Row{
		one(label+" flap: authentications per device in the first 10 s (most of any device)", "auths", float64(maxFirst)).
			target("≤ 4", 4, false).
			note(fmt.Sprintf("1 run; %s; mean %.2f, median %d over %d devices; the first is the return from the lost stable connection",
				fault, float64(sumFirst)/float64(len(r.first)), r.first[len(r.first)/2], len(r.first))),
		one(label+" flap: authentications in the busiest second", "% of fleet", 100*float64(peak)/float64(n)).
			target("< 5%", 5, false).
			note(fmt.Sprintf("second %d after the trigger; %d authentications and %d failed attempts in %v; per-second curve: %s",
				peakAt, total, r.failed, r.span, strings.Join(parts, " "))),
	}
	steadyName := label + " flap: authentications in the busiest second once flapping steadily"
	if r.steady < 0 || r.steady >= len(r.curve) {
		return append(rows, Row{Name: steadyName, Target: "< 5%",
			Skipped: fmt.Sprintf("the fleet had fewer than %d down events per device within %v", flapSteadyDowns, r.span)})
	}
	return append(rows, one(steadyName, "% of fleet", 100*float64(steadyPeak)/float64(n)).target("< 5%", 5, false).
		note(fmt.Sprintf("from second %d after the trigger, when the fleet had had %d down events per device (the lost stable connection and 3 broken ones: the 0–1 s return, the 5–10 s and 10–20 s backoffs are behind the average device; next: 20–40 s, 40–80 s, 80–160 s)",
			r.steady, flapSteadyDowns)))
}

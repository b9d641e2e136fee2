// Package fleet runs N virtual devices in one process for scale tests: each
// one is a full cloudmgmt.Client (its own serial, state machine, report
// buffers and connections) and nothing else (no SSH, no DHCP, no CLI).
// `netdevd fleet` is its command line; cmd/netdevd-bench drives it.
package fleet

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/netdevd/netdevd/cloudmgmt"
	"github.com/netdevd/netdevd/cloudmgmt/wire"
	"github.com/netdevd/netdevd/internal/config"
)

// Target is one controller the devices join.
type Target struct {
	Host  string // name or address, used as the server domain (TLS name)
	Port  int
	Plain bool       // http:// URL: lab mode (ws://)
	Addr  netip.Addr // resolved address, given to the device as an `ip host`
}

// ParseTarget parses https://HOST[:PORT] (or http:// for lab mode) and
// resolves HOST when it is not an address.
func ParseTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Target{}, fmt.Errorf("controller URL %q: want https://HOST[:PORT]", raw)
	}
	t := Target{Host: u.Hostname(), Port: config.DefaultCloudPort}
	switch u.Scheme {
	case "https":
	case "http":
		t.Plain = true
	default:
		return Target{}, fmt.Errorf("controller URL %q: scheme must be https (or http for lab mode)", raw)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("controller URL %q: bad port", raw)
		}
		t.Port = n
	}
	if a, err := netip.ParseAddr(t.Host); err == nil {
		t.Addr = a
		return t, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip4", t.Host)
	if err != nil || len(addrs) == 0 {
		return Target{}, fmt.Errorf("controller URL %q: cannot resolve %s: %v", raw, t.Host, err)
	}
	t.Addr = addrs[0].Unmap()
	return t, nil
}

// Options configures a fleet.
type Options struct {
	Count        int
	SerialPrefix string
	// Targets are the controllers; device i joins Targets[i % len].
	Targets            []Target
	RootCAs            *x509.CertPool
	InsecureSkipVerify bool
	// ReportInterval is each device's telemetry interval (cloudmgmt default 60 s).
	ReportInterval  time.Duration
	Keepalive, Ping int // seconds; 0 = defaults 180 / 60
	// Ramp spreads the devices' start over this long (0 = all at once).
	Ramp time.Duration
	Zap  *zap.Logger // may be nil
}

// Serial is device i's serial number (i from 1).
func Serial(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }

// WriteSerials writes the fleet's serials, one per line, in the format of
// `cloudsim run --serials FILE`.
func WriteSerials(path, prefix string, count int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# netdevd fleet --serial-prefix %s --count %d\n", prefix, count)
	for i := 1; i <= count; i++ {
		b.WriteString(Serial(prefix, i))
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

type device struct {
	c         *cloudmgmt.Client
	generated atomic.Uint64 // telemetry reports queued
}

// Fleet is N devices.
type Fleet struct {
	o    Options
	devs []*device
	ev   *events

	mu           sync.Mutex
	started      time.Time
	allAt        time.Time // first moment every device was Established
	memAt        time.Time // when the memory figures were taken (settled)
	runCtx       context.Context
	cpuAtAll     time.Duration
	rssBefore    uint64
	goMemBefore  goMemory
	rssAtAll     uint64
	goMemSettled goMemory
	lastAcked    uint64
	lastSampleAt time.Time
	peakRSS      uint64
}

// New prepares the devices; nothing connects before Run.
func New(o Options) (*Fleet, error) {
	if o.Count < 1 {
		return nil, errors.New("count must be at least 1")
	}
	if len(o.Targets) == 0 {
		return nil, errors.New("no controller")
	}
	if o.SerialPrefix == "" {
		return nil, errors.New("empty serial prefix")
	}
	if o.Zap == nil {
		o.Zap = zap.NewNop()
	}
	f := &Fleet{o: o, ev: newEvents()}
	// cloudmgmt logs CLOUD_* transitions to its zap logger when it has no
	// log buffer: a counting core turns them into the fleet's event curve.
	zl := zap.New(zapcore.NewTee(o.Zap.Core(), f.ev))
	f.devs = make([]*device, o.Count)
	for i := range f.devs {
		t := o.Targets[i%len(o.Targets)]
		d := &device{}
		serial := Serial(o.SerialPrefix, i+1)
		d.c = cloudmgmt.New(cloudmgmt.Options{
			Serial: serial, MAC: macOf(i + 1), Software: "fleet",
			Sysname:            func() string { return serial },
			RootCAs:            o.RootCAs,
			InsecureSkipVerify: o.InsecureSkipVerify,
			LabPlainWS:         t.Plain,
			Zap:                zl,
			ResolvConf:         "/nonexistent", // every target is an `ip host`
			TelemetryInterval:  o.ReportInterval,
			Telemetry: func() map[string]any {
				d.generated.Add(1)
				return map[string]any{"fleet_index": i + 1}
			},
		})
		cc := config.Cloud{ServerDomain: t.Host, ServerPort: t.Port,
			Keepalive: config.DefaultKeepalive, Ping: config.DefaultPing}
		if o.Keepalive > 0 {
			cc.Keepalive = o.Keepalive
		}
		if o.Ping > 0 {
			cc.Ping = o.Ping
		}
		d.c.SetConfig(cc, nil, []config.IPHost{{Name: t.Host, Addr: t.Addr}})
		f.devs[i] = d
	}
	return f, nil
}

// macOf is a locally administered MAC derived from the index.
func macOf(i int) string {
	return fmt.Sprintf("02:fe:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
}

// Run starts every device and returns when ctx ends and every device's Run
// has returned.
func (f *Fleet) Run(ctx context.Context) error {
	runtime.GC()
	f.mu.Lock()
	f.rssBefore = RSS()
	f.goMemBefore = goMemoryInUse()
	f.started = time.Now()
	f.runCtx = ctx
	f.lastSampleAt = f.started
	f.mu.Unlock()
	var wg sync.WaitGroup
	var step time.Duration
	if f.o.Ramp > 0 {
		step = f.o.Ramp / time.Duration(len(f.devs))
	}
	for i, d := range f.devs {
		if step > 0 && i > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(step):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() { defer wg.Done(); d.c.Run(ctx) }()
	}
	wg.Wait()
	return nil
}

// Counts is one sample of the fleet.
type Counts struct {
	At          time.Time
	Elapsed     time.Duration
	Count       int
	Established int
	Connecting  int // Resolving … Upgrading
	Waiting     int
	Idle        int
	// ReportsAcked is the number of telemetry reports the controllers
	// acknowledged so far; ReportsPerSec is its rate since the last Sample.
	ReportsAcked  uint64
	ReportsPerSec float64
	// Up and Down are the CLOUD_ESTABLISHED / CLOUD_DOWN events so far.
	Up, Down, Failed uint64
	RSS              uint64
	// Settled: the memory figures have been taken (see settleTime).
	Settled bool
}

// Sample counts the devices by state. The first sample that finds every
// device Established fixes the time-to-all-Established figures.
func (f *Fleet) Sample() Counts {
	now := time.Now()
	c := Counts{At: now, Count: len(f.devs)}
	var acked uint64
	var lastUp time.Time
	for _, d := range f.devs {
		st := d.c.Status()
		switch st.ConnState {
		case "Established":
			c.Established++
			if st.ConnectedAt.After(lastUp) {
				lastUp = st.ConnectedAt
			}
		case "Waiting":
			c.Waiting++
		case "Idle":
			c.Idle++
		default:
			c.Connecting++
		}
		g := d.generated.Load()
		p := uint64(d.c.PendingReports(wire.ServiceTelemetry))
		if g > p {
			acked += g - p
		}
	}
	c.ReportsAcked = acked
	c.Up, c.Down, c.Failed = f.ev.up.Load(), f.ev.down.Load(), f.ev.failed.Load()
	all := c.Established == c.Count
	f.mu.Lock()
	first := all && f.allAt.IsZero() && !f.started.IsZero()
	// Memory is taken once the fleet has settled: every device Established
	// for settleTime and a telemetry report acknowledged per device (its
	// sub-connection is up), so that it is what a connected device holds,
	// not the handshakes still in flight.
	// (never once the devices are being stopped: they are closing)
	settled := all && !f.allAt.IsZero() && f.memAt.IsZero() && f.runCtx.Err() == nil &&
		now.Sub(f.allAt) >= settleTime && acked >= uint64(c.Count)
	f.mu.Unlock()
	if settled {
		// what is live, not the handshakes' garbage
		debug.FreeOSMemory()
	}
	c.RSS = RSS()
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Elapsed = now.Sub(f.started)
	if dt := now.Sub(f.lastSampleAt).Seconds(); dt > 0 && acked >= f.lastAcked {
		c.ReportsPerSec = float64(acked-f.lastAcked) / dt
	}
	f.lastAcked, f.lastSampleAt = acked, now
	if c.RSS > f.peakRSS {
		f.peakRSS = c.RSS
	}
	if first {
		// the last device to connect fixes the moment (ConnectedAt is
		// exact; the sample only notices it up to one period later)
		f.allAt = lastUp
		f.cpuAtAll = CPUTime()
	}
	if settled {
		f.memAt = now
		f.rssAtAll = c.RSS
		f.goMemSettled = goMemoryInUse()
	}
	c.Settled = !f.memAt.IsZero()
	return c
}

// Line renders a sample as the one-line-per-second summary.
func (c Counts) Line() string {
	return fmt.Sprintf("fleet t=%.0fs established=%d/%d connecting=%d waiting=%d idle=%d reports/s=%.0f up=%d down=%d failed=%d rss=%.1fMB",
		c.Elapsed.Seconds(), c.Established, c.Count, c.Connecting, c.Waiting, c.Idle, c.ReportsPerSec,
		c.Up, c.Down, c.Failed, float64(c.RSS)/1e6)
}

// Report is the fleet's final report (JSON for the bench).
type Report struct {
	Count       int     `json:"count"`
	Established int     `json:"established"` // at the last sample
	RunSeconds  float64 `json:"run_seconds"`
	// AllEstablishedSeconds is the time from start to every device
	// Established (first sample that saw it); -1 if that never happened.
	AllEstablishedSeconds float64 `json:"all_established_seconds"`
	CPUToAllSeconds       float64 `json:"cpu_to_all_established_seconds"` // user+system, whole process
	CPUTotalSeconds       float64 `json:"cpu_total_seconds"`
	RSSBeforeBytes        uint64  `json:"rss_before_bytes"`
	RSSAllBytes           uint64  `json:"rss_all_established_bytes"`
	RSSPeakBytes          uint64  `json:"rss_peak_bytes"`
	// PerDeviceRSSBytes = (RSS at all Established − RSS before start) / count.
	PerDeviceRSSBytes  float64 `json:"per_device_rss_bytes"`
	PerDeviceHeapBytes float64 `json:"per_device_heap_bytes"` // Go heap+stacks in use, same delta
	// the same split: heap spans in use, goroutine stacks, goroutines
	PerDeviceGoHeapBytes float64 `json:"per_device_go_heap_bytes"`
	PerDeviceStackBytes  float64 `json:"per_device_stack_bytes"`
	PerDeviceGoroutines  float64 `json:"per_device_goroutines"`
	ReportsAcked         uint64  `json:"reports_acked"`
	Up                   uint64  `json:"up_events"`
	Down                 uint64  `json:"down_events"`
	Failed               uint64  `json:"failed_events"`
	// UpPerSecond is CLOUD_ESTABLISHED events per wall-clock second (unix
	// time → count): the (re)connection curve.
	UpPerSecond map[int64]int `json:"up_per_second"`
}

// settleTime is how long every device must have been Established before
// the memory figures are taken.
const settleTime = 2 * time.Second

// Final builds the report from a last sample.
func (f *Fleet) Final(last Counts) Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := Report{Count: len(f.devs), Established: last.Established,
		RunSeconds:            last.At.Sub(f.started).Seconds(),
		AllEstablishedSeconds: -1, CPUTotalSeconds: CPUTime().Seconds(),
		RSSBeforeBytes: f.rssBefore, RSSPeakBytes: f.peakRSS, ReportsAcked: last.ReportsAcked,
		Up: last.Up, Down: last.Down, Failed: last.Failed, UpPerSecond: f.ev.curve()}
	if !f.allAt.IsZero() {
		r.AllEstablishedSeconds = f.allAt.Sub(f.started).Seconds()
		r.CPUToAllSeconds = f.cpuAtAll.Seconds()
	}
	if !f.memAt.IsZero() {
		r.RSSAllBytes = f.rssAtAll
		if f.rssAtAll > f.rssBefore {
			r.PerDeviceRSSBytes = float64(f.rssAtAll-f.rssBefore) / float64(len(f.devs))
		}
		n := float64(len(f.devs))
		d := f.goMemSettled.minus(f.goMemBefore)
		r.PerDeviceHeapBytes = (d.heap + d.stacks) / n
		r.PerDeviceGoHeapBytes, r.PerDeviceStackBytes, r.PerDeviceGoroutines = d.heap/n, d.stacks/n, d.goroutines/n
	}
	return r
}

// Text renders the final report for people.
func (r Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fleet final: %d devices, %d Established at the end, ran %.1fs\n", r.Count, r.Established, r.RunSeconds)
	if r.AllEstablishedSeconds >= 0 {
		fmt.Fprintf(&b, "  time to all Established : %.2fs\n", r.AllEstablishedSeconds)
		fmt.Fprintf(&b, "  CPU to all Established  : %.2fs (user+system)\n", r.CPUToAllSeconds)
	} else {
		fmt.Fprintf(&b, "  time to all Established : never (not every device was Established at once)\n")
	}
	if r.RSSAllBytes > 0 {
		fmt.Fprintf(&b, "  RSS before / settled    : %.1f MB / %.1f MB\n", float64(r.RSSBeforeBytes)/1e6, float64(r.RSSAllBytes)/1e6)
		fmt.Fprintf(&b, "  per device              : %.1f KB RSS, %.1f KB Go heap+stacks (heap %.1f KB, stacks %.1f KB, %.1f goroutines)\n",
			r.PerDeviceRSSBytes/1e3, r.PerDeviceHeapBytes/1e3, r.PerDeviceGoHeapBytes/1e3, r.PerDeviceStackBytes/1e3, r.PerDeviceGoroutines)
	} else {
		fmt.Fprintf(&b, "  per device              : not measured (the fleet never settled: all Established for %v with every telemetry sub-connection up)\n", settleTime)
	}
	fmt.Fprintf(&b, "  CPU total               : %.2fs; RSS peak %.1f MB\n", r.CPUTotalSeconds, float64(r.RSSPeakBytes)/1e6)
	fmt.Fprintf(&b, "  events                  : %d up, %d down, %d failed attempts; %d telemetry reports acked\n", r.Up, r.Down, r.Failed, r.ReportsAcked)
	if len(r.UpPerSecond) > 0 {
		secs := make([]int64, 0, len(r.UpPerSecond))
		for s := range r.UpPerSecond {
			secs = append(secs, s)
		}
		sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
		b.WriteString("  up per second           :")
		for _, s := range secs {
			fmt.Fprintf(&b, " %d", r.UpPerSecond[s])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// events is a zap core counting the CLOUD_* events cloudmgmt logs.
type events struct {
	up, down, failed atomic.Uint64
	mu               sync.Mutex
	perSec           map[int64]int
}

func newEvents() *events { return &events{perSec: map[int64]int{}} }

func (e *events) curve() map[int64]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[int64]int, len(e.perSec))
	for k, v := range e.perSec {
		out[k] = v
	}
	return out
}

func (e *events) Enabled(l zapcore.Level) bool      { return l >= zapcore.InfoLevel }
func (e *events) With([]zapcore.Field) zapcore.Core { return e }
func (e *events) Sync() error                       { return nil }
func (e *events) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Enabled(ent.Level) {
		return ce.AddCore(ent, e)
	}
	return ce
}

func (e *events) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	for _, fl := range fields {
		if fl.Key != "mnemonic" {
			continue
		}
		switch fl.String {
		case "CLOUD_ESTABLISHED":
			e.up.Add(1)
			e.mu.Lock()
			e.perSec[ent.Time.Unix()]++
			e.mu.Unlock()
		case "CLOUD_DOWN":
			e.down.Add(1)
		case "CLOUD_FAILED":
			e.failed.Add(1)
		}
	}
	return nil
}

// RSS is this process's resident set size in bytes (0 if unknown).
func RSS() uint64 { return ProcRSS(os.Getpid()) }

// ProcRSS is pid's VmRSS in bytes (0 if unknown).
func ProcRSS(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// CPUTime is this process's user+system CPU time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goMemory is what the Go runtime holds for live things.
type goMemory struct{ heap, stacks, goroutines float64 }

func (a goMemory) minus(b goMemory) goMemory {
	return goMemory{max(a.heap-b.heap, 0), max(a.stacks-b.stacks, 0), max(a.goroutines-b.goroutines, 0)}
}

func goMemoryInUse() goMemory {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return goMemory{float64(ms.HeapInuse), float64(ms.StackInuse), float64(runtime.NumGoroutine())}
}

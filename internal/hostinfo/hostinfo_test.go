package hostinfo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/device"
)

func writeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadCPU(t *testing.T) {
	dir := writeProc(t, map[string]string{"stat": "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n"})
	got, err := ReadCPU(dir)
	// total = 100+5+50+800+40+3+2+0 = 1000; idle = 800+40
	if err != nil || got != (CPUTimes{Busy: 160, Total: 1000}) {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"", "intr 1\n", "cpu 1 2 x 4 5\n", "cpu 1 2\n"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ReadCPU(t.TempDir()); err == nil {
		t.Error("missing file: no error")
	}
}

func TestReadMemory(t *testing.T) {
	dir := writeProc(t, map[string]string{"meminfo": "MemTotal:        2048000 kB\nMemFree:          512000 kB\n" +
		"MemAvailable:    1200000 kB\nBuffers:           20480 kB\nCached:           307200 kB\nSwapCached:            0 kB\n" +
		"Shmem:              1024 kB\nSwapTotal:       1048576 kB\nSwapFree:        1048000 kB\nHugePages_Total:       0\n"})
	got, err := ReadMemory(dir)
	want := device.MemoryUsage{Total: 2048000, Free: 512000, Shared: 1024, Buffers: 20480, Cached: 307200, SwapTotal: 1048576, SwapFree: 1048000}
	if err != nil || got != want {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: lots kB\n"} {
		if _, err := parseMeminfo(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// The real file parses.
	if m, err := ReadMemory("/proc"); err != nil || m.Total == 0 || m.Free > m.Total {
		t.Errorf("/proc/meminfo: %+v %v", m, err)
	}
}

// fakeCPU is CPU times a test sets by hand.
type fakeCPU struct {
	mu  sync.Mutex
	t   CPUTimes
	err error
}

func (f *fakeCPU) read() (CPUTimes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t, f.err
}

// add spends total jiffies, busy of them busy.
func (f *fakeCPU) add(busy, total uint64) {
	f.mu.Lock()
	f.t.Busy += busy
	f.t.Total += total
	f.mu.Unlock()
}

func TestCPUSamplerWindows(t *testing.T) {
	start := time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	cpu := &fakeCPU{}
	s := NewCPUSampler(cpu.read, clk)
	if got := s.Usage(); got != (device.CPUUsage{}) {
		t.Errorf("no samples: %+v", got)
	}
	// Drive the sampler by hand (Run is tested below): a sample, then
	// SampleEvery of time.
	step := func(busy, total uint64) {
		s.sample()
		clk.Advance(SampleEvery)
		cpu.add(busy, total)
	}
	// 4 minutes at 10%, 55 seconds at 50%, the last 5 seconds at 90%.
	for i := 0; i < 48; i++ {
		step(50, 500)
	}
	for i := 0; i < 11; i++ {
		step(250, 500)
	}
	step(450, 500)
	got := s.Usage()
	// 1 min back: 11 steps at 50% and one at 90% = (2750+450)/6000.
	// 5 min back: only 4 min of samples exist, back to the first: (2400+2750+450)/30000.
	if got.Last5Sec != 90 || got.Last1Min != 53 || got.Last5Min != 19 {
		t.Errorf("windows: %+v", got)
	}
	// Old samples go: after 10 more minutes at 20%, every window is 20%.
	for i := 0; i < 120; i++ {
		step(100, 500)
	}
	if got := s.Usage(); got != (device.CPUUsage{Last5Sec: 20, Last1Min: 20, Last5Min: 20}) || len(s.samples) != keepSamples {
		t.Errorf("after 10 min: %+v, %d samples", got, len(s.samples))
	}
	cpu.err = errors.New("no /proc")
	if got := s.Usage(); got != (device.CPUUsage{}) {
		t.Errorf("read error: %+v", got)
	}
}

func TestCPUSamplerRun(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC))
	reads := make(chan struct{}, 16)
	cpu := &fakeCPU{}
	s := NewCPUSampler(func() (CPUTimes, error) {
		t, err := cpu.read()
		reads <- struct{}{}
		return t, err
	}, clk)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	// waitArmed waits until the sampler sleeps on its timer.
	waitArmed := func() {
		deadline := time.Now().Add(10 * time.Second)
		for clk.Pending() != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the sampler never armed its timer")
			}
			time.Sleep(time.Millisecond)
		}
	}
	<-reads // the first sample, at once
	waitArmed()
	cpu.add(30, 100)
	clk.Advance(SampleEvery)
	<-reads
	waitArmed()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	n := len(s.samples)
	s.mu.Unlock()
	if n != 2 {
		t.Errorf("%d samples", n)
	}
}

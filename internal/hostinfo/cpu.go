package hostinfo

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/device"
)

// SampleEvery is how often the sampler reads the CPU times; keepSamples
// cover the longest window (5 minutes) and one more.
const (
	SampleEvery = 5 * time.Second
	keepSamples = int(5*time.Minute/SampleEvery) + 1
)

type cpuSample struct {
	at time.Time
	t  CPUTimes
}

// CPUSampler keeps the last five minutes of CPU times, one reading every
// SampleEvery, so that a display can average over the last 5 seconds, 1
// minute and 5 minutes. Run owns the sampling; Usage may be called from any
// goroutine.
type CPUSampler struct {
	read  func() (CPUTimes, error)
	clock clock.Clock

	mu      sync.Mutex
	samples []cpuSample // oldest first
}

// NewCPUSampler samples with read (ReadCPU of /proc, or a test's) on clk.
func NewCPUSampler(read func() (CPUTimes, error), clk clock.Clock) *CPUSampler {
	return &CPUSampler{read: read, clock: clk}
}

// Run samples at once, then every SampleEvery until ctx ends. A failed
// reading is skipped.
func (s *CPUSampler) Run(ctx context.Context) error {
	timer := s.clock.NewTimer(SampleEvery)
	defer timer.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
		}
		timer.Reset(SampleEvery)
	}
}

func (s *CPUSampler) sample() {
	t, err := s.read()
	if err != nil {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, cpuSample{now, t})
	if len(s.samples) > keepSamples {
		s.samples = append(s.samples[:0], s.samples[len(s.samples)-keepSamples:]...)
	}
}

// Usage is the busy share of the CPUs from a fresh reading back to the
// newest sample at least 5 s, 1 min and 5 min old: the window is between
// that and one SampleEvery longer, and shorter while fewer samples exist
// (back to the first one). Without a reading it is all zeros.
func (s *CPUSampler) Usage() device.CPUUsage {
	now, err := s.read()
	if err != nil {
		return device.CPUUsage{}
	}
	at := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return device.CPUUsage{
		Last5Sec: s.busySince(at.Add(-5*time.Second), now),
		Last1Min: s.busySince(at.Add(-time.Minute), now),
		Last5Min: s.busySince(at.Add(-5*time.Minute), now),
	}
}

// busySince is the busy percentage between the newest sample taken at or
// before from (or the oldest one) and now.
func (s *CPUSampler) busySince(from time.Time, now CPUTimes) int {
	if len(s.samples) == 0 {
		return 0
	}
	base := s.samples[0]
	for _, smp := range s.samples {
		if smp.at.After(from) {
			break
		}
		base = smp
	}
	if now.Total <= base.t.Total || now.Busy < base.t.Busy {
		return 0
	}
	pct := math.Round(float64(now.Busy-base.t.Busy) * 100 / float64(now.Total-base.t.Total))
	return int(min(pct, 100))
}

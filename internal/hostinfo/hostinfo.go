// Package hostinfo reads what the Linux box the device runs on uses of its
// CPU and memory, from /proc (or a copy of it, for tests), and keeps the
// CPU history that `display cpu-usage` averages over.
package hostinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netdevd/netdevd/internal/device"
)

// CPUTimes are the jiffies all CPUs spent since boot, from /proc/stat.
type CPUTimes struct {
	Busy  uint64
	Total uint64
}

// ReadCPU reads the `cpu` line of procDir/stat. Idle and I/O wait count as
// not busy; guest time is already inside user and nice, so it is left out.
func ReadCPU(procDir string) (CPUTimes, error) {
	b, err := os.ReadFile(filepath.Join(procDir, "stat"))
	if err != nil {
		return CPUTimes{}, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (CPUTimes, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return CPUTimes{}, fmt.Errorf("/proc/stat: no cpu line")
	}
	var t CPUTimes
	var idle uint64
	// user nice system idle iowait irq softirq steal [guest guest_nice]
	for i, f := range fields[1:min(len(fields), 9)] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf("/proc/stat: cpu field %d: %w", i+1, err)
		}
		t.Total += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	t.Busy = t.Total - idle
	return t, nil
}

// ReadMemory reads procDir/meminfo (values in KB).
func ReadMemory(procDir string) (device.MemoryUsage, error) {
	f, err := os.Open(filepath.Join(procDir, "meminfo"))
	if err != nil {
		return device.MemoryUsage{}, err
	}
	defer f.Close()
	return parseMeminfo(f)
}

func parseMeminfo(r io.Reader) (device.MemoryUsage, error) {
	var m device.MemoryUsage
	fields := map[string]*uint64{
		"MemTotal": &m.Total, "MemFree": &m.Free, "Shmem": &m.Shared, "Buffers": &m.Buffers,
		"Cached": &m.Cached, "SwapTotal": &m.SwapTotal, "SwapFree": &m.SwapFree,
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return device.MemoryUsage{}, fmt.Errorf("/proc/meminfo: %s: %w", name, err)
		}
		*dst = n
	}
	if err := sc.Err(); err != nil {
		return device.MemoryUsage{}, err
	}
	if m.Total == 0 {
		return device.MemoryUsage{}, fmt.Errorf("/proc/meminfo: no MemTotal")
	}
	return m, nil
}

// Package profiling writes pprof CPU and heap profiles for the long-running
// commands (`netdevd fleet`, `cloudsim run`), so that a scale run can be
// profiled on the real binaries instead of a reconstruction in a test.
package profiling

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// Start begins a CPU profile into cpuFile (when not empty); the returned
// stop ends it.
func Start(cpuFile string) (stop func() error, err error) {
	var cpu *os.File
	if cpuFile != "" {
		if cpu, err = os.Create(cpuFile); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
	}
	return func() error {
		var first error
		if cpu != nil {
			pprof.StopCPUProfile()
			first = cpu.Close()
		}
		return first
	}, nil
}

// WriteHeap writes a heap profile to path after a GC, so that it shows what
// is live at that moment, and the goroutines (grouped, text) to
// path.goroutines: per-connection memory is mostly stacks.
func WriteHeap(path string) error {
	if err := writeHeap(path); err != nil {
		return err
	}
	f, err := os.Create(path + ".goroutines")
	if err != nil {
		return fmt.Errorf("goroutine profile: %w", err)
	}
	if err := pprof.Lookup("goroutine").WriteTo(f, 1); err != nil {
		f.Close()
		return fmt.Errorf("goroutine profile: %w", err)
	}
	return f.Close()
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

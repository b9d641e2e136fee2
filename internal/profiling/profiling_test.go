package profiling

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CPU profile is written when stop is called, the heap profile and the
// goroutine list at once; a bad path is an error, not a silent no-op.
func TestProfilesAreWritten(t *testing.T) {
	dir := t.TempDir()
	cpu, heap := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "heap.pprof")
	stop, err := Start(cpu)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHeap(heap); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cpu, heap} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v %v", p, st, err)
		}
	}
	g, err := os.ReadFile(heap + ".goroutines")
	if err != nil || !strings.Contains(string(g), "goroutine profile: total") {
		t.Fatalf("goroutines file: %v\n%.200s", err, g)
	}
	if _, err := Start(filepath.Join(dir, "missing", "cpu.pprof")); err == nil {
		t.Fatal("a CPU profile into a missing directory was accepted")
	}
	if err := WriteHeap(filepath.Join(dir, "missing", "heap.pprof")); err == nil {
		t.Fatal("a heap profile into a missing directory was accepted")
	}
	// with no file, Start does nothing and stop is harmless
	stop, err = Start("")
	if err != nil || stop() != nil {
		t.Fatalf("empty path: %v", err)
	}
}

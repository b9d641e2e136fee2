package shortstack

import (
	"runtime"
	"sync"
	"testing"
)

//go:noinline
func deep(n int) int {
	var pad [512]byte
	pad[n%512] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%512])
}

// Goroutines that ran deep work through Do keep small stacks; the same
// work done in place leaves them with large ones.
func TestWaitingGoroutinesKeepSmallStacks(t *testing.T) {
	perGoroutine := func(viaDo bool) float64 {
		const n = 200
		var ready, release sync.WaitGroup
		ready.Add(n)
		release.Add(1)
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		for i := 0; i < n; i++ {
			go func() {
				if viaDo {
					Do(func() { deep(60) }) // ~32 KB of stack
				} else {
					deep(60)
				}
				ready.Done()
				release.Wait()
			}()
		}
		ready.Wait()
		runtime.GC()
		runtime.ReadMemStats(&b)
		release.Done()
		return float64(b.StackInuse-a.StackInuse) / n
	}
	inPlace, aside := perGoroutine(false), perGoroutine(true)
	t.Logf("stack per waiting goroutine: in place %.0f B, through Do %.0f B", inPlace, aside)
	if aside > 8<<10 || inPlace < 4*aside {
		t.Fatalf("in place %.0f B, through Do %.0f B: Do did not keep the waiting stacks small", inPlace, aside)
	}
	ran := false
	Do(func() { ran = true })
	if !ran {
		t.Fatal("Do returned before fn ran")
	}
}

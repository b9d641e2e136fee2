package cloudmgmt

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// niceOf is the nice value of thread tid (the raw getpriority system call
// answers 20 - nice).
func niceOf(tid int) int {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return -100
	}
	return 20 - p
}

// threadsAt counts the process's threads with nice value n.
func threadsAt(n int) int {
	ents, _ := os.ReadDir("/proc/self/task")
	k := 0
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil && niceOf(tid) == n {
			k++
		}
	}
	return k
}

// TestExecsRunAtLowerPriority: the exec runs on a thread at nice +10; the
// rest of the process keeps its priority (on Linux a nice value is per
// thread).
func TestExecsRunAtLowerPriority(t *testing.T) {
	c := startCtrl(t, 0)
	base := niceOf(unix.Gettid())
	establish(t, c, func(o *Options) {
		o.Exec = func(ctx context.Context, lines []string) (string, bool) {
			return fmt.Sprintf("exec %d, %d threads at %d", niceOf(unix.Gettid()), threadsAt(base), base), true
		}
	}, nil)
	waitFor(t, "the controller holds the connection", func() bool { return c.connected("SN1") })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := c.Exec(ctx, "SN1", []string{"x"})
	var nice, others, at int
	if err == nil {
		fmt.Sscanf(r.Output, "exec %d, %d threads at %d", &nice, &others, &at)
	}
	if err != nil || nice != min(base+execNice, 19) || others == 0 {
		t.Fatalf("%+v %v: want the exec at nice %d and other threads at %d", r, err, min(base+execNice, 19), base)
	}
}

// Package tmpguard runs a test binary with a temporary directory of its own
// and fails the run when the tests leave anything in it. Child processes
// inherit TMPDIR, so a leak by a daemon, a shell child or a helper program
// that a test started is caught too.
package tmpguard

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Main runs the tests (m.Run) with TMPDIR set to a new directory, then
// checks that the directory is empty and removes it. It returns the exit
// code for os.Exit: the tests' own, or 1 when something was left behind.
func Main(m interface{ Run() int }) int {
	return run(m.Run, os.Stderr)
}

func run(tests func() int, report io.Writer) int {
	dir, err := os.MkdirTemp("", "netdevd-test-")
	if err != nil {
		fmt.Fprintln(report, "tmpguard:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	previous, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", dir)
	defer func() {
		if had {
			os.Setenv("TMPDIR", previous)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}()
	code := tests()
	left := leftovers(dir)
	if len(left) == 0 {
		return code
	}
	fmt.Fprintf(report, "tmpguard: the tests left %d entries in the temporary directory: %v\n", len(left), left)
	return 1
}

func leftovers(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{err.Error()}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

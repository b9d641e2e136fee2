package atomicfile

import (
	"bytes"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/tmpguard"
)

// The crash test re-runs this test binary as a writer that saves two
// contents in turn forever and reports each completed save on its standard
// output; the parent kills it at random instants after the first report.
const writerEnv = "ATOMICFILE_TEST_WRITER"

func contents() (a, b []byte) {
	return bytes.Repeat([]byte("old configuration line\n"), 40000),
		bytes.Repeat([]byte("NEW CONFIGURATION\n"), 60000)
}

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		a, b := contents()
		// The first save writes b, so a kill after the first report finds
		// b or a save in flight over it: every run exercises a replacement.
		for i := 0; ; i++ {
			data := b
			if i%2 == 1 {
				data = a
			}
			if err := Write(path, data, 0o600); err != nil {
				os.Exit(3)
			}
			if _, err := os.Stdout.Write([]byte{'s'}); err != nil {
				os.Exit(4)
			}
		}
	}
	os.Exit(tmpguard.Main(m))
}

func TestWriteReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "startup.cfg")
	for _, s := range []string{"one\n", "two two\n"} {
		if err := Write(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != s {
			t.Fatalf("read %q, %v; want %q", got, err, s)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestWriteFailsInMissingDir(t *testing.T) {
	if err := Write(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

// TestKilledMidSave kills a saving process at 100 random instants, each
// after the writer has reported at least one completed save: the file must
// always hold one complete content.
func TestKilledMidSave(t *testing.T) {
	a, b := contents()
	path := filepath.Join(t.TempDir(), "startup.cfg")
	if err := Write(path, a, 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	sawA, sawB := false, false
	for run := 0; run < 100; run++ {
		killAfterSaves(t, path, 1+rng.Intn(3), time.Duration(rng.Intn(20000))*time.Microsecond)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		switch {
		case bytes.Equal(got, a):
			sawA = true
		case bytes.Equal(got, b):
			sawB = true
		default:
			t.Fatalf("run %d: file holds %d bytes, neither old nor new content", run, len(got))
		}
	}
	if !sawA || !sawB {
		t.Fatalf("kills found old content %v, new content %v: both should occur in 100 runs", sawA, sawB)
	}
}

// killAfterSaves starts a writer, waits until it has reported saves
// completed saves, lets it run on for jitter (so the kill lands at a random
// point of a later save), then kills it and reaps it.
func killAfterSaves(t *testing.T, path string, saves int, jitter time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(syscall.SIGKILL)
	report := make([]byte, 1)
	for i := 0; i < saves; i++ {
		if _, err := io.ReadFull(out, report); err != nil {
			t.Fatalf("writer ended before save %d: %v", i+1, err)
		}
	}
	time.Sleep(jitter)
}

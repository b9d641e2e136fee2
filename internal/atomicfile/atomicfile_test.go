package atomicfile

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The crash test re-runs this test binary as a writer that saves two
// contents in turn forever; the parent kills it at random instants.
const writerEnv = "ATOMICFILE_TEST_WRITER"

func contents() (a, b []byte) {
	return bytes.Repeat([]byte("old configuration line\n"), 40000),
		bytes.Repeat([]byte("NEW CONFIGURATION\n"), 60000)
}

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		a, b := contents()
		for i := 0; ; i++ {
			data := a
			if i%2 == 1 {
				data = b
			}
			if err := Write(path, data, 0o600); err != nil {
				os.Exit(3)
			}
		}
	}
	os.Exit(m.Run())
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

// TestKilledMidSave kills a saving process at 100 random instants: the file
// must always hold one complete content.
func TestKilledMidSave(t *testing.T) {
	a, b := contents()
	dir := t.TempDir()
	path := filepath.Join(dir, "startup.cfg")
	if err := Write(path, a, 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	sawB := false
	for run := 0; run < 100; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Intn(30000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		switch {
		case bytes.Equal(got, a):
		case bytes.Equal(got, b):
			sawB = true
		default:
			t.Fatalf("run %d: file holds %d bytes, neither old nor new content", run, len(got))
		}
	}
	if !sawB {
		t.Fatal("no run got as far as one save: the kills did not exercise the writer")
	}
}

package shell

import (
	"os"
	"testing"
)

// The default inputrc lives in memory: readline reads it through INPUTRC,
// and nothing is written to the temporary directory.
func TestDefaultInputrcInMemory(t *testing.T) {
	t.Setenv("INPUTRC", "")
	t.Setenv("TMPDIR", t.TempDir())
	release, err := useInputrc("")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(os.Getenv("INPUTRC"))
	release()
	if err != nil || string(got) != DefaultInputrc {
		t.Fatalf("INPUTRC %q reads %q, %v; want the default inputrc", os.Getenv("INPUTRC"), got, err)
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Fatalf("files left in TMPDIR: %v", left)
	}
}

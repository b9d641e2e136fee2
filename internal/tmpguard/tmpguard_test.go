package tmpguard

import (
	"os"
	"strings"
	"testing"
)

func TestCleanRunKeepsItsCode(t *testing.T) {
	var out strings.Builder
	if code := run(func() int { return 0 }, &out); code != 0 || out.Len() != 0 {
		t.Fatalf("code %d, report %q; want 0 and nothing", code, out.String())
	}
	if code := run(func() int { return 3 }, &out); code != 3 {
		t.Fatalf("code %d; want the tests' own 3", code)
	}
}

func TestLeftoverFailsTheRun(t *testing.T) {
	var out strings.Builder
	var dir string
	code := run(func() int {
		dir = os.TempDir()
		f, err := os.CreateTemp("", "cloudmgmt-tls-")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		return 0
	}, &out)
	if code != 1 || !strings.Contains(out.String(), "cloudmgmt-tls-") {
		t.Fatalf("code %d, report %q; want 1 naming the leftover", code, out.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the guard's directory %s was not removed: %v", dir, err)
	}
	if os.TempDir() == dir {
		t.Fatal("TMPDIR not restored")
	}
}

package version

import "testing"

func TestReleaseOf(t *testing.T) {
	for v, want := range map[string]string{
		"v1.3.0":                  "0103",
		"v1.3.2":                  "0103P02",
		"1.3.2":                   "0103P02",
		"v2.10":                   "0210",
		"v1.3.2-5-gabc1234":       "0103P02",
		"v1.3.2-5-gabc1234-dirty": "0103P02",
		"8629668":                 "0000",
		"dev":                     "0000",
		"v100.1.0":                "0000",
		"v1.2.300":                "0102",
	} {
		if got := releaseOf(v); got != want {
			t.Errorf("releaseOf(%q) = %q, want %q", v, got, want)
		}
	}
}

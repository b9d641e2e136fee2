package version

import (
	"fmt"
	"regexp"
	"strconv"
)

// ComwareVersion is the Comware platform version the device presents in
// `display version` and on the first line of its configuration files.
const ComwareVersion = "7.1.064"

// semver reads the release tag at the start of a `git describe` version:
// v1.3, v1.3.2, 1.3.2-5-gabc1234-dirty.
var semver = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?`)

// Release is the project version as a Comware release number: major and
// minor as four digits, then Pnn for a patch version, as Comware names its
// patch releases (6328P03). v1.3.0 is Release 0103, v1.3.2 is 0103P02. A
// build from an untagged tree (a bare commit hash, "dev") is Release 0000.
// The exact build string stays in `netdevd version`.
func Release() string { return releaseOf(Version) }

func releaseOf(v string) string {
	m := semver.FindStringSubmatch(v)
	if m == nil {
		return "0000"
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major > 99 || minor > 99 {
		return "0000"
	}
	r := fmt.Sprintf("%02d%02d", major, minor)
	if patch, _ := strconv.Atoi(m[3]); patch > 0 && patch <= 99 {
		r += fmt.Sprintf("P%02d", patch)
	}
	return r
}

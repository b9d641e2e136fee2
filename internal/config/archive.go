package config

import (
	"fmt"
	"regexp"
)

// Configuration archive defaults (Comware V7: `archive configuration max`
// takes 1 to 10 and defaults to 5).
const (
	DefaultArchiveMax = 5
	MaxArchiveMax     = 10
)

// Archive is `archive configuration location flash:/DIR filename-prefix P`
// and `archive configuration max N`. Archiving is off while Location is "".
type Archive struct {
	Location string // "flash:/archive" (normalized: lower-case "flash:/", one folder)
	Prefix   string // 1-30 letters, digits, _ and -
	Max      int    // 1-MaxArchiveMax archive files kept; the oldest goes first
}

var (
	archiveFolder = regexp.MustCompile(`^flash:/[A-Za-z0-9_-]{1,56}$`)
	archivePrefix = regexp.MustCompile(`^[A-Za-z0-9_-]{1,30}$`)
)

// ValidArchivePrefix reports whether p is a valid archive file name prefix.
func ValidArchivePrefix(p string) bool { return archivePrefix.MatchString(p) }

func (a Archive) validate() error {
	switch {
	case a.Max < 1 || a.Max > MaxArchiveMax:
		return fmt.Errorf("archive configuration max %d out of 1-%d", a.Max, MaxArchiveMax)
	case a.Location == "" && a.Prefix == "":
		return nil
	case !archiveFolder.MatchString(a.Location):
		return fmt.Errorf("bad archive location %q", a.Location)
	case !archivePrefix.MatchString(a.Prefix):
		return fmt.Errorf("bad archive filename prefix %q", a.Prefix)
	}
	return nil
}

package daemon

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// StartupFile is the configuration loaded at boot, on flash:.
const StartupFile = "startup.cfg"

// flashName accepts what an engineer may type as a file on flash:
// "startup.cfg", "flash:/startup.cfg" or "backup.cfg"; never a path.
var flashName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}\.cfg$`)

// flashPath maps a typed file name to its path in the data directory.
func flashPath(dataDir, name string) (string, error) {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "flash:"), "/")
	if name == "" {
		name = StartupFile
	}
	if !flashName.MatchString(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("invalid file name %q", name)
	}
	return filepath.Join(dataDir, name), nil
}

// serialAlphabet is what Comware serial numbers are made of.
const serialAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// loadSerial reads the serial number kept in the data directory, creating
// it once at first boot so that the device keeps its identity for life.
func loadSerial(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "serial")
	if b, err := os.ReadFile(path); err == nil {
		sn := strings.TrimSpace(string(b))
		if sn == "" {
			return "", fmt.Errorf("%s is empty", path)
		}
		return sn, nil
	} else if !os.IsNotExist(err) {
		return "", err
	}
	b := make([]byte, 17)
	rand.Read(b)
	sn := []byte("NDD")
	for _, x := range b {
		sn = append(sn, serialAlphabet[int(x)%len(serialAlphabet)])
	}
	if err := os.WriteFile(path, append(sn, '\n'), 0o644); err != nil {
		return "", err
	}
	return string(sn), nil
}

// macFromSerial derives a stable locally administered MAC for the device.
func macFromSerial(serial string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(serial); i++ {
		h = (h ^ uint64(serial[i])) * 1099511628211
	}
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", byte(h>>32), byte(h>>24), byte(h>>16), byte(h>>8), byte(h))
}

package daemon

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/netdevd/netdevd/internal/atomicfile"
	"github.com/netdevd/netdevd/internal/device"
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

// outputName is a file a redirected display may write on flash: (`display
// … > FILE`): a plain name, as the grammar accepts it.
var outputName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$`)

// systemFiles are the device's own files on flash:, which a redirected
// display must never replace.
var systemFiles = []string{"serial", hostKeyName, SocketName, KnownHostsFile}

// outputPath maps a redirection's file name to its path, refusing the
// device's own files and anything that is not a regular file.
func outputPath(dataDir, name string) (string, error) {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "flash:"), "/")
	if !outputName.MatchString(name) {
		return "", device.Messagef("The file name %s is invalid.", name)
	}
	if slices.Contains(systemFiles, name) {
		return "", device.Messagef("The file flash:/%s is used by the system.", name)
	}
	path := filepath.Join(dataDir, name)
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return "", device.Messagef("flash:/%s is not a file.", name)
	}
	return path, nil
}

// writeOutput replaces the file atomically, or appends to it and syncs.
func writeOutput(path string, data []byte, appendTo bool) error {
	if !appendTo {
		return atomicfile.Write(path, data, 0o644)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Sync(), f.Close())
}

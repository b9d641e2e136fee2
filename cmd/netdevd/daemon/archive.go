package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/atomicfile"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/store"
)

// Configuration archives (`archive configuration`) and rollback
// (`configuration replace file`).
//
// Archive files are DATA_DIR/FOLDER/PREFIX_N.cfg for the configured
// location flash:/FOLDER. Unlike Comware, which forgets its archives at
// reboot, the list is read from the folder each time: the files whose names
// match PREFIX_N.cfg (N 1-1000), oldest first by modification time. The
// next file is numbered after the newest (1000 wraps to 1); beyond the
// configured maximum the oldest files are removed.

// folderName is a folder of flash: (never "." or "..").
var folderName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,56}$`)

// archiveMaxSerial is where archive numbers wrap, as on Comware.
const archiveMaxSerial = 1000

// maxConfigFile bounds a configuration file read from flash: or a server.
const maxConfigFile = 4 << 20

// archiveLock serializes archive writes and rotation within one daemon.
var archiveLock sync.Mutex

type archiveEntry struct {
	device.ArchiveFile
	serial int
}

// archiveFolder is the directory of flash:/FOLDER.
func archiveFolder(dataDir, location string) (string, error) {
	folder, ok := strings.CutPrefix(location, "flash:/")
	if !ok || !folderName.MatchString(folder) {
		return "", fmt.Errorf("invalid archive location %q", location)
	}
	return filepath.Join(dataDir, folder), nil
}

// listArchives reads the archive files of a, oldest first.
func listArchives(dataDir string, a config.Archive) ([]archiveEntry, error) {
	dir, err := archiveFolder(dataDir, a.Location)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(a.Prefix) + `_([1-9][0-9]{0,3})\.cfg$`)
	var out []archiveEntry
	for _, de := range entries {
		m := re.FindStringSubmatch(de.Name())
		if m == nil || !de.Type().IsRegular() {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		info, err := de.Info()
		if err != nil || n > archiveMaxSerial {
			continue
		}
		out = append(out, archiveEntry{device.ArchiveFile{Name: de.Name(), Time: info.ModTime()}, n})
	}
	slices.SortFunc(out, func(x, y archiveEntry) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.serial, y.serial))
	})
	return out, nil
}

// nextArchiveName is the name the next archive file gets.
func nextArchiveName(a config.Archive, files []archiveEntry) string {
	n := 1
	if len(files) > 0 {
		n = files[len(files)-1].serial%archiveMaxSerial + 1
	}
	return fmt.Sprintf("%s_%d.cfg", a.Prefix, n)
}

func (v callerView) Archives(context.Context) (device.ArchiveInfo, error) {
	cfg, _ := v.d.store.Get()
	if cfg.Archive.Location == "" {
		return device.ArchiveInfo{}, nil
	}
	files, err := listArchives(v.d.opts.DataDir, cfg.Archive)
	if err != nil {
		return device.ArchiveInfo{}, err
	}
	info := device.ArchiveInfo{Next: nextArchiveName(cfg.Archive, files), Files: []device.ArchiveFile{}}
	for _, f := range files {
		info.Files = append(info.Files, f.ArchiveFile)
	}
	return info, nil
}

func (v callerView) ArchiveConfiguration(context.Context) (string, error) {
	if err := v.mayWrite(); err != nil {
		return "", err
	}
	cfg, _ := v.d.store.Get()
	a := cfg.Archive
	if a.Location == "" {
		return "", device.Message("The archive directory and file name prefix are not configured.")
	}
	dir, err := archiveFolder(v.d.opts.DataDir, a.Location)
	if err != nil {
		return "", err
	}
	archiveLock.Lock()
	defer archiveLock.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", v.archiveFailed(a, err)
	}
	files, err := listArchives(v.d.opts.DataDir, a)
	if err != nil {
		return "", v.archiveFailed(a, err)
	}
	name := nextArchiveName(a, files)
	if err := atomicfile.Write(filepath.Join(dir, name), []byte(cli.Render(cfg)), 0o600); err != nil {
		return "", v.archiveFailed(a, err)
	}
	// The new file is the newest; drop it from the old list if it replaced
	// one (numbers wrapped), then remove the oldest beyond the maximum.
	files = slices.DeleteFunc(files, func(f archiveEntry) bool { return f.Name == name })
	for len(files)+1 > a.Max {
		if err := os.Remove(filepath.Join(dir, files[0].Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			v.d.log.Logf("CFGMAN", logbuf.Warning, "CFGMAN_ARCHIVE_FAILED", "Cannot remove the old archive file %s/%s: %v.", a.Location, files[0].Name, err)
			break
		}
		files = files[1:]
	}
	v.d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_ARCHIVE", "%s archived the running configuration to %s/%s.", v.id.User, a.Location, name)
	return name, nil
}

func (v callerView) archiveFailed(a config.Archive, err error) error {
	v.d.log.Logf("CFGMAN", logbuf.Error, "CFGMAN_ARCHIVE_FAILED", "Archiving the running configuration to %s failed: %v.", a.Location, err)
	return device.Messagef("Failed to save the archive file: %v", err)
}

// configFilePath maps `[flash:/][FOLDER/]NAME.cfg` to its path on flash:.
func configFilePath(dataDir, file string) (string, error) {
	rest := file
	if len(rest) >= 7 && strings.EqualFold(rest[:7], "flash:/") {
		rest = rest[7:]
	}
	folder, name, found := strings.Cut(rest, "/")
	if !found {
		return flashPath(dataDir, rest)
	}
	dir, err := archiveFolder(dataDir, "flash:/"+folder)
	if err != nil {
		return "", err
	}
	if _, err := flashPath(dataDir, name); err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

func (v callerView) ReplaceConfiguration(ctx context.Context, file string) error {
	if err := v.mayWrite(); err != nil {
		return err
	}
	path, err := configFilePath(v.d.opts.DataDir, file)
	if err != nil {
		return err
	}
	text, err := readLimited(path)
	if errors.Is(err, os.ErrNotExist) {
		return device.Messagef("The file %s does not exist.", file)
	}
	if err != nil {
		return err
	}
	next, err := v.d.parseConfig(ctx, string(text))
	if err != nil {
		v.d.log.Logf("CFGMAN", logbuf.Warning, "CFGMAN_REPLACE_FAILED", "Replacing the running configuration with %s failed: %v", file, err)
		return device.Messagef("Failed to replace current configuration with the file %s: %v", file, err)
	}
	if err := v.d.store.Update(func(c *config.Config) error { *c = next.Clone(); return nil }); err != nil {
		return device.Messagef("Failed to replace current configuration with the file %s: %v", file, err)
	}
	v.d.log.Logf("CFGMAN", logbuf.Notification, "CFGMAN_REPLACE", "%s replaced the running configuration with %s.", v.id.User, file)
	return nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readConfig(f)
}

// readConfig reads a configuration file of at most maxConfigFile bytes.
func readConfig(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigFile {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxConfigFile)
	}
	return b, nil
}

// errFileLine is the error of the first bad line of a configuration file.
// The line's text is left out: it may hold a secret.
func errFileLine(e cli.LineError) error {
	return fmt.Errorf("line %d: %s", e.Line, strings.TrimPrefix(e.Message, "% "))
}

// parseConfig replays text into a scratch device with the default
// configuration, as a boot would, and returns the configuration it
// describes; any bad line is an error and nothing is returned.
func (d *Daemon) parseConfig(ctx context.Context, text string) (config.Config, error) {
	sc := d.newScratch()
	if errs := cli.Replay(ctx, sc, text); len(errs) > 0 {
		return config.Config{}, errFileLine(errs[0])
	}
	return sc.cfg.Config(), nil
}

func (d *Daemon) newScratch() *scratchDevice {
	return &scratchDevice{Device: d.deviceFor(Console), cfg: store.NewBuilder(config.Default())}
}

// scratchDevice holds the configuration a file builds. Reads that the
// grammar may make (display lines) go to the real device; every action
// with an effect beyond the configuration is refused, so a file line such
// as `save` cannot touch flash: while it is only being checked.
type scratchDevice struct {
	device.Device
	cfg *store.Builder
}

var errScratch = errors.New("not allowed in a configuration file")

// Running hands the grammar the working copy itself: replay only reads it
// (the sysname for a prompt, the view's block), and copying it for every
// line would make loading quadratic again.
func (s *scratchDevice) Running(context.Context) (config.Config, error) { return s.cfg.Peek(), nil }

func (s *scratchDevice) Update(_ context.Context, change func(*config.Config) error) error {
	return s.cfg.Apply(change)
}

func (s *scratchDevice) Save(context.Context, string) error     { return errScratch }
func (s *scratchDevice) ResetCloudTunnel(context.Context) error { return errScratch }
func (s *scratchDevice) Unbind(context.Context, string) (string, error) {
	return "", errScratch
}
func (s *scratchDevice) ArchiveConfiguration(context.Context) (string, error)    { return "", errScratch }
func (s *scratchDevice) ReplaceConfiguration(context.Context, string) error      { return errScratch }
func (s *scratchDevice) BackupStartup(context.Context, device.SFTPTarget) error  { return errScratch }
func (s *scratchDevice) RestoreStartup(context.Context, device.SFTPTarget) error { return errScratch }

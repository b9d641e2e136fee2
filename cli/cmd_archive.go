package cli

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/netdevd/netdevd/internal/config"
)

// Configuration archives and rollback (Comware's `archive configuration …`
// and `configuration replace file …`). Archive files are written by the
// daemon, which owns flash:; the settings are configuration.

var (
	archiveDirValue    = text(8, 63, validArchiveDir)
	archivePrefixValue = text(1, 30, config.ValidArchivePrefix)
	archiveMaxValue    = intRange(1, config.MaxArchiveMax)
	replaceFileValue   = text(5, 255, validReplaceFile)
)

// archiveDir is `flash:/FOLDER`: one folder of flash:, created when missing.
var archiveDir = regexp.MustCompile(`(?i)^flash:/([A-Za-z0-9_-]{1,56})/?$`)

func validArchiveDir(s string) bool { return archiveDir.MatchString(s) }

// normalizeArchiveDir is the location as stored and rendered.
func normalizeArchiveDir(s string) string {
	return "flash:/" + archiveDir.FindStringSubmatch(s)[1]
}

// validReplaceFile accepts `[flash:/][FOLDER/]NAME.cfg`.
func validReplaceFile(s string) bool {
	rest := bareFileName(s)
	dir, name, found := strings.Cut(rest, "/")
	if !found {
		return validCfgName(rest)
	}
	return validArchiveDir("flash:/"+dir) && validCfgName(name)
}

// archiveSystemCommand is `archive configuration { location DIR
// filename-prefix P | max N }` (system view).
func archiveSystemCommand() *node {
	return kw("archive", "Archive configuration",
		kw("configuration", "Configuration archive settings",
			kw("location", "Specify the directory and file name prefix of configuration archives",
				val("dir", archiveDirValue, "Archive directory, such as flash:/archive",
					kw("filename-prefix", "Specify the file name prefix",
						val("prefix", archivePrefixValue, "File name prefix (letters, digits, _ and -)").does(runArchiveLocation)))),
			kw("max", "Specify the maximum number of archive files",
				val("max", archiveMaxValue, "Maximum number of archive files").does(runArchiveMax))))
}

// archiveUndoCommand is `undo archive configuration { location | max }`.
func archiveUndoCommand() *node {
	return kw("archive", "Archive configuration",
		kw("configuration", "Configuration archive settings",
			kw("location", "Specify the directory and file name prefix of configuration archives").does(runUndoArchiveLocation),
			kw("max", "Specify the maximum number of archive files").does(runUndoArchiveMax)))
}

// archiveUserCommand is `archive configuration` (user view): archive now.
func archiveUserCommand() *node {
	return kw("archive", "Archive configuration",
		kw("configuration", "Save the running configuration to an archive file").does(runArchiveNow))
}

// replaceCommand is `configuration replace file FILE` (system view).
func replaceCommand() *node {
	return kw("configuration", "Configuration management",
		kw("replace", "Replace the running configuration",
			kw("file", "Specify the replacement configuration file",
				val("file", replaceFileValue, "File name, such as flash:/archive/my_archive_1.cfg").does(runConfigurationReplace))))
}

var (
	runArchiveMax     = setter(func(e *invocation, c *config.Config) { c.Archive.Max = e.number("max") })
	runUndoArchiveMax = setter(func(e *invocation, c *config.Config) { c.Archive.Max = config.DefaultArchiveMax })
	// Undoing the location turns archiving off and, as on Comware, also
	// restores the default maximum.
	runUndoArchiveLocation = setter(func(e *invocation, c *config.Config) {
		c.Archive = config.Archive{Max: config.DefaultArchiveMax}
	})
)

func runArchiveLocation(e *invocation) error {
	dir, prefix := normalizeArchiveDir(e.arg("dir")), e.arg("prefix")
	return e.update(func(c *config.Config) error {
		c.Archive.Location, c.Archive.Prefix = dir, prefix
		return nil
	})
}

const (
	askArchiveSure   = "Save the running configuration to an archive file. Continue? [Y/N]:"
	errArchiveNoDir  = "The archive directory and file name prefix are not configured."
	archiveCancelled = "The running configuration is not archived."
)

// runArchiveNow asks, as Comware does, then saves the next archive file.
func runArchiveNow(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	if cfg.Archive.Location == "" {
		return failure(errArchiveNoDir)
	}
	yes, err := e.askYesNo(askArchiveSure)
	switch {
	case errors.Is(err, io.EOF):
		return &cliError{kind: errPlain, msg: archiveCancelled}
	case err != nil || !yes:
		return nil
	}
	name, err := e.s.dev.ArchiveConfiguration(e.ctx)
	if err != nil {
		return err
	}
	e.printf("The archive file %s is saved.\n", name)
	return nil
}

// runDisplayArchive is `display archive configuration`.
func runDisplayArchive(e *invocation) error {
	cfg, err := e.running()
	if err != nil {
		return err
	}
	a := cfg.Archive
	if a.Location == "" {
		e.println("Location: Not configured")
		e.println("Filename prefix: Not configured")
		e.printf("Maximum number of archive files: %d\n", a.Max)
		return nil
	}
	info, err := e.s.dev.Archives(e.ctx)
	if err != nil {
		return err
	}
	e.println("Location: " + a.Location)
	e.println("Filename prefix: " + a.Prefix)
	e.printf("Maximum number of archive files: %d\n", a.Max)
	if len(info.Files) > 0 {
		e.println(" No. TimeStamp                  FileName")
		for i, f := range info.Files {
			mark := " "
			if i == len(info.Files)-1 {
				mark = "#"
			}
			e.printf("%s%-4s%-27s%s\n", mark, fmt.Sprint(i+1), f.Time.In(e.s.loc).Format("Mon Jan 02 15:04:05 2006"), f.Name)
		}
		e.println("'#' indicates the most recent archive file.")
	}
	if info.Next != "" {
		e.println("Next archive file to be saved: " + info.Next)
	}
	return nil
}

const (
	askReplaceSave  = "Current configuration will be lost, save current configuration? [Y/N]:"
	replaceStarting = "Now replacing the current configuration. Please wait..."
)

// runConfigurationReplace offers to save first, as Comware does, then has
// the device swap the whole running configuration for the file's.
func runConfigurationReplace(e *invocation) error {
	file := e.arg("file")
	yes, err := e.askYesNo(askReplaceSave)
	switch {
	case errors.Is(err, io.EOF):
		return &cliError{kind: errPlain, msg: "The configuration is not replaced."}
	case err != nil:
		return nil
	}
	if yes {
		chosen, ok, err := e.saveFileDialogue()
		if err != nil || !ok {
			return err
		}
		if err := e.saveTo(chosen); err != nil {
			return err
		}
	}
	e.println(replaceStarting)
	e.flush()
	if err := e.s.dev.ReplaceConfiguration(e.ctx, file); err != nil {
		return err
	}
	e.printf("Succeeded in replacing current configuration with the file %s.\n", file)
	return nil
}

// archiveSection renders the archive settings (a section of their own,
// after line vty).
func archiveSection(cfg config.Config) []string {
	var lines []string
	a := cfg.Archive
	if a.Location != "" {
		lines = append(lines, fmt.Sprintf(" archive configuration location %s filename-prefix %s", a.Location, a.Prefix))
	}
	if a.Max != config.DefaultArchiveMax {
		lines = append(lines, fmt.Sprintf(" archive configuration max %d", a.Max))
	}
	return lines
}

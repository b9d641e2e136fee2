package main

import (
	"bytes"
	"fmt"
	"os"
	"text/template"

	"github.com/goreleaser/chglog"
)

const (
	manualExec   = "ExecStart=/usr/local/bin/netdevd "
	packagedExec = "ExecStart=/usr/bin/netdevd "
)

// packagedUnit is configs/netdevd.service, written for manual installs to
// /usr/local/bin, with ExecStart pointing at the packaged /usr/bin/netdevd.
// One unit serves both installs, so hardening changes reach both.
func packagedUnit(src string) ([]byte, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(b, []byte("\n"+manualExec)); n != 1 {
		return nil, fmt.Errorf("%s: want one line starting %q, found %d", src, manualExec, n)
	}
	return bytes.Replace(b, []byte("\n"+manualExec), []byte("\n"+packagedExec), 1), nil
}

// writeChangelog writes the chglog YAML nfpm turns into
// changelog.Debian.gz: one entry for this build, naming the commit; the
// changes themselves are in the git history.
func writeChangelog(path, version, maintainer string, s snapshot) error {
	note := "Built from the netdevd sources (no git information)."
	if s.Hash != "" {
		// short: lintian wants changelog lines under 80 columns
		note = fmt.Sprintf("Built from commit %s of %s", s.Hash, s.Time.Format("2006-01-02 15:04:05 UTC"))
		if s.Dirty {
			note += ", with local changes"
		}
		note += "."
	}
	entries := chglog.ChangeLogEntries{{
		Semver:   version,
		Date:     s.Time,
		Packager: maintainer,
		ChangeLogOverridables: chglog.ChangeLogOverridables{
			Deb: &chglog.ChangelogDeb{Urgency: "medium", Distributions: []string{"unstable"}},
		},
		Changes: chglog.ChangeLogChanges{{Commit: s.Hash, Note: note}},
	}}
	return entries.Save(path)
}

// writeCopyright renders configs/debian/copyright for one program, listing
// the Go modules the binary holds (read from its build information).
func writeCopyright(tmplPath, out, program, binary string) error {
	src, err := os.ReadFile(tmplPath)
	if err != nil {
		return err
	}
	tmpl, err := template.New("copyright").Option("missingkey=error").Parse(string(src))
	if err != nil {
		return fmt.Errorf("%s: %w", tmplPath, err)
	}
	e, err := readEmbedded(binary)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	data := struct {
		Program string
		embedded
	}{program, e}
	if err := tmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("%s: %w", tmplPath, err)
	}
	buf.WriteString("\n")
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// snapshot is what git says about the tree being packaged.
type snapshot struct {
	Tag   string    // newest v-prefixed tag reachable from HEAD; "" if none
	Ahead int       // commits between Tag and HEAD
	Hash  string    // HEAD, abbreviated
	Time  time.Time // HEAD's committer time
	Dirty bool      // tracked files differ from HEAD
}

// upstreamVersion turns a snapshot into the upstream part of a Debian
// version that grows with every commit:
//
//	no tag:             0.0~git20261204135840.8742836   (sorts below any 0.0 release)
//	on tag v1.2.3:      1.2.3
//	after tag v1.2.3:   1.2.3+git20261204135840.8742836 (sorts above 1.2.3)
//
// The committer time (UTC, to the second) orders snapshots, the hash names
// the commit; ".dirty" marks a build from modified files. A tag's "-"
// becomes "~" so that v1.3.0-rc1 sorts below 1.3.0.
func upstreamVersion(s snapshot) string {
	git := "git" + s.Time.UTC().Format("20060102150405") + "." + s.Hash
	if s.Dirty {
		git += ".dirty"
	}
	base := strings.ReplaceAll(strings.TrimPrefix(s.Tag, "v"), "-", "~")
	switch {
	case s.Tag == "":
		return "0.0~" + git
	case s.Ahead == 0 && !s.Dirty:
		return base
	default:
		return base + "+" + git
	}
}

// upstreamRe is a Debian upstream version without epoch or hyphen: it
// starts with a digit and holds only alphanumerics and . + ~.
var upstreamRe = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

// revisionRe is a Debian revision.
var revisionRe = regexp.MustCompile(`^[A-Za-z0-9.+~]+$`)

// debianVersion joins upstream version and revision after checking both.
func debianVersion(upstream, revision string) (string, error) {
	if !upstreamRe.MatchString(upstream) {
		return "", fmt.Errorf("version %q: a Debian upstream version starts with a digit and holds only letters, digits and . + ~", upstream)
	}
	if !revisionRe.MatchString(revision) {
		return "", fmt.Errorf("revision %q: only letters, digits and . + ~", revision)
	}
	return upstream + "-" + revision, nil
}

// readSnapshot asks git about the work tree dir.
func readSnapshot(ctx context.Context, dir string) (snapshot, error) {
	var s snapshot
	var err error
	if s.Hash, err = git(ctx, dir, "rev-parse", "--short", "HEAD"); err != nil {
		return s, err
	}
	ct, err := git(ctx, dir, "show", "-s", "--format=%ct", "HEAD")
	if err != nil {
		return s, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("git commit time %q: %w", ct, err)
	}
	s.Time = time.Unix(sec, 0).UTC()
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return s, err
	}
	s.Dirty = status != ""
	// No tag is not an error: the version is then a 0.0~git snapshot.
	if desc, err := git(ctx, dir, "describe", "--tags", "--long", "--match", "v[0-9]*", "HEAD"); err == nil {
		s.Tag, s.Ahead, err = parseDescribe(desc)
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// parseDescribe splits `git describe --long` output: TAG-N-gHASH.
func parseDescribe(desc string) (tag string, ahead int, err error) {
	i := strings.LastIndex(desc, "-g")
	j := strings.LastIndex(desc[:max(i, 0)], "-")
	if i < 0 || j < 0 {
		return "", 0, fmt.Errorf("git describe: unexpected %q", desc)
	}
	ahead, err = strconv.Atoi(desc[j+1 : i])
	if err != nil {
		return "", 0, fmt.Errorf("git describe: unexpected %q", desc)
	}
	return desc[:j], ahead, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		detail := ""
		if ee, ok := err.(*exec.ExitError); ok {
			detail = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("git %s: %v %s (give -version to build without git)", strings.Join(args, " "), err, detail)
	}
	return strings.TrimSpace(string(out)), nil
}

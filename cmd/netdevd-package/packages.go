package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/netdevd/netdevd/internal/atomicfile"
)

const (
	defaultMaintainer = "netdevd developers <maintainers@netdevd.example>"
	homepage          = "https://github.com/netdevd/netdevd"
)

// options are what `make package` (or a test) asks for.
type options struct {
	OutDir     string
	Version    string // upstream version; "" derives it from git
	Revision   string // Debian revision
	Maintainer string
	Archs      []string
}

// debFile is one package written.
type debFile struct {
	Path, Name, Arch, Version string
	Size                      int64
	Program                   string // the binary in /usr/bin
	ProgramSize               int64
}

// packageDef is one binary package: its program and, for the daemon, the
// unit, site settings and maintainer scripts.
type packageDef struct {
	Name, Program    string
	Summary, Details string
	Service          bool
}

var packages = []packageDef{
	{
		Name: "netdevd", Program: "netdevd", Service: true,
		Summary: "Comware-style network device for cloud-managed Linux boxes",
		Details: `netdevd makes a Linux box behave like a Comware 7 network device that
joins a cloud management platform: engineers SSH in and use the Comware
CLI, automation that scrapes Comware output works unchanged, and a box
with the factory configuration learns its controller from DHCP option 253
(zero-touch).

The service is enabled on installation but not started: there is no user
and no default password. The first administrator comes from
--admin-password-file (set in /etc/default/netdevd) or from "netdevd
shell" run as root.

The device keeps its data, which its CLI calls flash: (startup.cfg, the
serial number, the SSH host key, archives), in /var/lib/netdevd. Removing
the package keeps that directory; purging the package deletes it.`,
	},
	{
		Name: "netdevd-cloudsim", Program: "cloudsim",
		Summary: "reference cloud controller for netdevd developers",
		Details: `cloudsim speaks netdevd's cloud management protocol v1: it authenticates
and registers devices, keeps their management tunnels, runs CLI lines on
them and records their reports, and can inject faults. Developers and
testers of controllers and of netdevd use it; a device does not need it.`,
	},
}

// builder holds what every package of one run shares.
type builder struct {
	root, stage string // the source tree; a scratch directory
	upstream    string // version the binaries report
	version     string // Debian version
	snap        snapshot
	o           options
	unit        string // the unit with ExecStart=/usr/bin/netdevd
	changelog   string // chglog YAML
}

// build writes every package for every requested architecture.
func build(ctx context.Context, o options) ([]debFile, error) {
	b, err := newBuilder(ctx, o)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.stage)
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	var out []debFile
	for _, arch := range o.Archs {
		for _, p := range packages {
			d, err := b.writePackage(ctx, p, arch)
			if err != nil {
				return out, fmt.Errorf("%s %s: %w", p.Name, arch, err)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func newBuilder(ctx context.Context, o options) (*builder, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := readSnapshot(ctx, root)
	if err != nil && o.Version == "" {
		return nil, err
	}
	if err != nil {
		// an explicit version needs no git; files are dated now
		snap = snapshot{Time: time.Now().UTC().Truncate(time.Second)}
	}
	b := &builder{root: root, snap: snap, o: o, upstream: o.Version}
	if b.upstream == "" {
		b.upstream = upstreamVersion(snap)
	}
	if b.version, err = debianVersion(b.upstream, o.Revision); err != nil {
		return nil, err
	}
	if b.stage, err = os.MkdirTemp("", "netdevd-package"); err != nil {
		return nil, err
	}
	if err := b.writeShared(); err != nil {
		os.RemoveAll(b.stage)
		return nil, err
	}
	return b, nil
}

// writeShared stages the files that are the same in every package.
func (b *builder) writeShared() error {
	unit, err := packagedUnit(filepath.Join(b.root, "configs", "netdevd.service"))
	if err != nil {
		return err
	}
	b.unit = filepath.Join(b.stage, "netdevd.service")
	if err := os.WriteFile(b.unit, unit, 0o644); err != nil {
		return err
	}
	b.changelog = filepath.Join(b.stage, "changelog.yml")
	return writeChangelog(b.changelog, b.version, b.o.Maintainer, b.snap)
}

func (b *builder) writePackage(ctx context.Context, p packageDef, arch string) (debFile, error) {
	dir := filepath.Join(b.stage, arch, p.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return debFile{}, err
	}
	binary := filepath.Join(dir, p.Program)
	if err := crossBuild(ctx, b.root, p.Program, arch, b.upstream, binary); err != nil {
		return debFile{}, err
	}
	copyright := filepath.Join(dir, "copyright")
	if err := writeCopyright(filepath.Join(b.root, "configs", "debian", "copyright"), copyright, p.Program, binary); err != nil {
		return debFile{}, err
	}
	info := b.info(p, arch, b.contents(p, binary, copyright))
	var buf bytes.Buffer
	if err := deb.Default.Package(info, &buf); err != nil {
		return debFile{}, err
	}
	name := deb.Default.ConventionalFileName(info)
	path := filepath.Join(b.o.OutDir, name)
	if err := atomicfile.Write(path, buf.Bytes(), 0o644); err != nil {
		return debFile{}, err
	}
	st, err := os.Stat(binary)
	if err != nil {
		return debFile{}, err
	}
	return debFile{Path: path, Name: p.Name, Arch: arch, Version: b.version, Size: int64(buf.Len()),
		Program: p.Program, ProgramSize: st.Size()}, nil
}

// info is the nfpm description of one package.
func (b *builder) info(p packageDef, arch string, contents files.Contents) *nfpm.Info {
	info := &nfpm.Info{
		Name:          p.Name,
		Arch:          arch,
		Platform:      "linux",
		Version:       b.upstream,
		VersionSchema: "none", // a Debian version, not semver: keep it as it is
		Release:       b.o.Revision,
		Section:       "net",
		Priority:      "optional",
		Maintainer:    b.o.Maintainer,
		Description:   p.Summary + "\n" + p.Details,
		Homepage:      homepage,
		Changelog:     b.changelog,
		MTime:         b.snap.Time,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Umask:    0o022,
		},
	}
	if p.Service {
		scripts := filepath.Join(b.root, "configs", "debian")
		info.Scripts = nfpm.Scripts{
			PostInstall: filepath.Join(scripts, "postinst"),
			PreRemove:   filepath.Join(scripts, "prerm"),
			PostRemove:  filepath.Join(scripts, "postrm"),
		}
	}
	return nfpm.WithDefaults(info)
}

// contents lists the files of one package with their modes; the changelog
// (changelog.Debian.gz) is added by nfpm from Info.Changelog.
func (b *builder) contents(p packageDef, binary, copyright string) files.Contents {
	doc := "/usr/share/doc/" + p.Name + "/"
	c := files.Contents{
		file(binary, "/usr/bin/"+p.Program, 0o755, ""),
		file(copyright, doc+"copyright", 0o644, ""),
		file(filepath.Join(b.root, "configs", "debian", p.Name+".lintian-overrides"),
			"/usr/share/lintian/overrides/"+p.Name, 0o644, ""),
	}
	if p.Service {
		c = append(c,
			file(b.unit, "/lib/systemd/system/netdevd.service", 0o644, ""),
			file(filepath.Join(b.root, "configs", "netdevd.default"), "/etc/default/netdevd", 0o644, files.TypeConfig),
			file(filepath.Join(b.root, "configs", "debian", "README.Debian"), doc+"README.Debian", 0o644, ""),
		)
	}
	return c
}

func file(src, dst string, mode os.FileMode, typ string) *files.Content {
	return &files.Content{Source: src, Destination: dst, Type: typ,
		FileInfo: &files.ContentFileInfo{Mode: mode}}
}

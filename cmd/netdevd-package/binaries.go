package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const versionVar = "github.com/netdevd/netdevd/internal/version.Version"

// goArch maps the Debian architectures we package to GOARCH.
var goArch = map[string]string{"amd64": "amd64", "arm64": "arm64"}

// crossBuild compiles ./cmd/<program> for Linux on arch into out: static
// (CGO off, so no libc is needed on the box), stripped of symbols and
// DWARF (-s -w), with source paths trimmed so the build is reproducible.
// The binary reports version with `version`.
func crossBuild(ctx context.Context, root, program, arch, version, out string) error {
	goarch, ok := goArch[arch]
	if !ok {
		return fmt.Errorf("architecture %q: only amd64 and arm64 are packaged", arch)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X "+versionVar+"="+version,
		"-o", out, "./cmd/"+program)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s: %v\n%s", program, arch, err, b)
	}
	return nil
}

// moduleRoot is the directory of the netdevd module's go.mod, found from
// the working directory the way the go command finds it.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the netdevd module (run from the source tree)")
	}
	return filepath.Dir(gomod), nil
}

// embedded lists what a Go binary was built from, for the copyright file.
type embedded struct {
	GoVersion string
	Modules   []module
}

type module struct{ Path, Version string }

func readEmbedded(binary string) (embedded, error) {
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return embedded{}, fmt.Errorf("%s: %w", binary, err)
	}
	e := embedded{GoVersion: bi.GoVersion}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		e.Modules = append(e.Modules, module{d.Path, d.Version})
	}
	return e, nil
}

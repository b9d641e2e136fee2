package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// goBenchmarks runs `go test -run '^$' -bench . -count N -benchmem` on
// every package that has a Benchmark function, and reports each
// benchmark's median ns/op (and B/op, allocs/op in the note).
func goBenchmarks(ctx context.Context, c *benchConfig) ([]Row, error) {
	pkgs, err := benchPackages(c.repo)
	if err != nil {
		return nil, err
	}
	// The end-to-end package's benchmarks and dhcpopt's lease-time one boot
	// network namespaces and dnsmasq a fixed number of times per invocation
	// (minutes each): they run only with --go-e2e, once (-count 1).
	var unit, e2e []string
	for _, p := range pkgs {
		if p == "./tests" || strings.HasPrefix(p, "./tests/") || p == "./dhcpopt" {
			e2e = append(e2e, p)
		} else {
			unit = append(unit, p)
		}
	}
	if len(unit) == 0 && (len(e2e) == 0 || !c.goE2E) {
		return nil, fmt.Errorf("no package under %s has a Benchmark function", c.repo)
	}
	var rows []Row
	run := func(count int, pkgs []string) error {
		args := append([]string{"test", "-p", "1", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(count)}, pkgs...)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = c.repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		r, err := parseGoBench(string(out))
		rows = append(rows, r...)
		return err
	}
	if len(unit) > 0 {
		if err := run(c.goCount, unit); err != nil {
			return nil, err
		}
	}
	if len(e2e) > 0 {
		if !c.goE2E {
			rows = append(rows, Row{Name: "go " + strings.Join(e2e, " ") + " (end-to-end benchmarks)",
				Skipped: "needs --go-e2e (each invocation boots whole sites: netns, dnsmasq, cloudsim, daemon)"})
		} else if err := run(1, e2e); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// benchPackages lists ./dir for every directory with a Benchmark in a _test.go file.
func benchPackages(repo string) ([]string, error) {
	set := map[string]bool{}
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "\nfunc Benchmark") {
			rel, _ := filepath.Rel(repo, filepath.Dir(p))
			set["./"+filepath.ToSlash(rel)] = true
		}
		return nil
	})
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, err
}

type goBench struct {
	pkg, name       string
	ns, bytes, allo []float64
	extra           map[string][]float64 // b.ReportMetric units
	extraOrder      []string
}

func parseGoBench(out string) ([]Row, error) {
	var order []string
	m := map[string]*goBench{}
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if p, ok := strings.CutPrefix(l, "pkg: "); ok {
			pkg = p
			continue
		}
		if !strings.HasPrefix(l, "Benchmark") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 || f[3] != "ns/op" {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // drop -GOMAXPROCS
		}
		key := pkg + " " + name
		b := m[key]
		if b == nil {
			b = &goBench{pkg: pkg, name: name, extra: map[string][]float64{}}
			m[key] = b
			order = append(order, key)
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, fmt.Errorf("bad benchmark line %q", l)
		}
		b.ns = append(b.ns, ns)
		for i := 4; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "B/op":
				b.bytes = append(b.bytes, v)
			case "allocs/op":
				b.allo = append(b.allo, v)
			default:
				u := f[i+1]
				if _, ok := b.extra[u]; !ok {
					b.extraOrder = append(b.extraOrder, u)
				}
				b.extra[u] = append(b.extra[u], v)
			}
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("go test printed no benchmark results:\n%s", out)
	}
	var rows []Row
	for _, k := range order {
		b := m[k]
		short := b.pkg[strings.LastIndexByte(b.pkg, '/')+1:]
		unit, k := "µs/op", 1e-3
		if medianOf(b.ns) >= 1e7 {
			unit, k = "ms/op", 1e-6
		}
		r := stat(fmt.Sprintf("go %s.%s", short, strings.TrimPrefix(b.name, "Benchmark")), unit, scale(b.ns, k))
		var notes []string
		for _, u := range b.extraOrder {
			notes = append(notes, fmt.Sprintf("%s %s", num(medianOf(b.extra[u])), u))
		}
		if len(b.bytes) > 0 {
			notes = append(notes, fmt.Sprintf("%.0f B/op", medianOf(b.bytes)))
		}
		if len(b.allo) > 0 {
			notes = append(notes, fmt.Sprintf("%.0f allocs/op", medianOf(b.allo)))
		}
		notes = append(notes, "runs = go test -count")
		rows = append(rows, r.note(strings.Join(notes, ", ")))
	}
	return rows, nil
}

func scale(xs []float64, k float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * k
	}
	return out
}

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return median(s)
}

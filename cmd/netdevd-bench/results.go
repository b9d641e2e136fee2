package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the table: a median over Runs runs, with an optional
// baseline measured in the same run (interleaved) and their ratio.
type Row struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit,omitempty"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`

	Baseline       string  `json:"baseline,omitempty"`
	BaselineMedian float64 `json:"baseline_median,omitempty"`
	BaselineRuns   int     `json:"baseline_runs,omitempty"`
	Ratio          float64 `json:"ratio,omitempty"` // Median / BaselineMedian

	// Target is the goal as text; TargetMax the bound on Median (or on
	// Ratio when TargetOnRatio); zero = no target.
	Target        string  `json:"target,omitempty"`
	TargetMax     float64 `json:"target_max,omitempty"`
	TargetOnRatio bool    `json:"target_on_ratio,omitempty"`
	Meets         *bool   `json:"meets,omitempty"`

	Note    string `json:"note,omitempty"`
	Skipped string `json:"skipped,omitempty"` // reason; a skipped row has no numbers
}

// check refuses a row that would print a number nobody measured.
func (r *Row) check() error {
	if r.Skipped != "" {
		if r.Runs != 0 || r.Median != 0 {
			return fmt.Errorf("%s: skipped row with numbers", r.Name)
		}
		return nil
	}
	if r.Runs < 1 {
		return fmt.Errorf("%s: no runs", r.Name)
	}
	for _, v := range []float64{r.Median, r.Min, r.Max, r.BaselineMedian, r.Ratio} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: not a number", r.Name)
		}
	}
	if r.Baseline != "" && r.BaselineRuns < 1 {
		return fmt.Errorf("%s: baseline without runs", r.Name)
	}
	if r.TargetMax > 0 {
		v := r.Median
		if r.TargetOnRatio {
			v = r.Ratio
		}
		ok := v <= r.TargetMax
		r.Meets = &ok
	}
	return nil
}

// stat makes a row from samples.
func stat(name, unit string, xs []float64) Row {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Row{Name: name, Unit: unit, Median: median(s), Min: s[0], Max: s[len(s)-1], Runs: len(s)}
}

// withBaseline adds a baseline's median and the ratio.
func (r Row) withBaseline(name string, xs []float64) Row {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	r.Baseline, r.BaselineMedian, r.BaselineRuns = name, median(s), len(s)
	if r.BaselineMedian > 0 {
		r.Ratio = r.Median / r.BaselineMedian
	}
	return r
}

func (r Row) target(text string, max float64, onRatio bool) Row {
	r.Target, r.TargetMax, r.TargetOnRatio = text, max, onRatio
	return r
}

func (r Row) note(s string) Row { r.Note = s; return r }

func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// Machine is where the figures were taken.
type Machine struct {
	Cores     int     `json:"cores"`
	MemoryMB  int     `json:"memory_mb"`
	CPU       string  `json:"cpu"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
	LoadAvg1  float64 `json:"loadavg_1min_at_start"`
	OpenFiles string  `json:"open_files_limit"`
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		for _, l := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kb); err == nil {
				m.MemoryMB = kb / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscanf(string(b), "%f", &m.LoadAvg1)
	}
	m.OpenFiles = openFilesLimit()
	return m
}

// Results is the whole bench.
type Results struct {
	Machine  Machine   `json:"machine"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Rows     []Row     `json:"rows"`
}

func (m Machine) line() string {
	return fmt.Sprintf("machine: %d cores (%s), %d MB memory, Linux %s, %s, load %.2f at start, open files %s",
		m.Cores, m.CPU, m.MemoryMB, m.Kernel, m.Go, m.LoadAvg1, m.OpenFiles)
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func (r Row) cells() []string {
	if r.Skipped != "" {
		return []string{r.Name, "skipped", "-", "-", "-", r.Target, "-", r.Skipped}
	}
	med := num(r.Median) + " " + r.Unit
	runs := fmt.Sprint(r.Runs)
	base, ratio := "-", "-"
	if r.Baseline != "" {
		base = fmt.Sprintf("%s: %s %s (%d)", r.Baseline, num(r.BaselineMedian), r.Unit, r.BaselineRuns)
		ratio = fmt.Sprintf("%.2f×", r.Ratio)
	}
	verdict := "-"
	if r.Meets != nil {
		verdict = "MISSED"
		if *r.Meets {
			verdict = "ok"
		}
	}
	tg := r.Target
	if tg == "" {
		tg = "-"
	}
	return []string{r.Name, med, runs, base, ratio, tg, verdict, r.Note}
}

var header = []string{"measurement", "median", "runs", "baseline: median (runs)", "ratio", "target", "verdict", "note"}

// Table is the plain-text table for stdout.
func (res *Results) Table() string {
	var b strings.Builder
	b.WriteString(res.Machine.line() + "\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range res.Rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	tw.Flush()
	return b.String()
}

// Markdown is docs/benchmarks.md.
func (res *Results) Markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`go run ./cmd/netdevd-bench`); do not edit by hand — " +
		"bench/README.md says what each row measures and how.\n\n")
	fmt.Fprintf(&b, "- %s\n- run %s → %s (UTC)\n", res.Machine.line(),
		res.Started.Format("2006-01-02 15:04:05"), res.Finished.Format("15:04:05"))
	b.WriteString("- every figure is the median of *runs* runs; a baseline is measured in the same run, " +
		"interleaved A/B, and *ratio* = median / baseline median\n\n")
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range res.Rows {
		c := r.cells()
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], "|", "\\|")
		}
		b.WriteString("| " + strings.Join(c, " | ") + " |\n")
	}
	b.WriteString("\nWhat each row measures, the fleet simulator, and the profiles behind the misses: " +
		"[bench/README.md](../bench/README.md).\n")
	return b.String()
}

func (res *Results) write(jsonPath, mdPath string) error {
	if len(res.Rows) == 0 {
		return errors.New("no rows")
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	for _, p := range []string{jsonPath, mdPath} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(mdPath, []byte(res.Markdown()), 0o644)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/netdevd/netdevd/internal/scriptclient"
)

// scriptTally is what one device did in one pattern's sessions.
type scriptTally struct {
	sessions int
	lost     int
	byTerm   map[string]int // lost per TERM
	example  string         // the first loss, for the note
}

func (t *scriptTally) add(term string, err error) {
	t.sessions++
	if err == nil {
		return
	}
	t.lost++
	t.byTerm[term]++
	if t.example == "" {
		t.example = err.Error()
	}
}

// benchScripts (issue 11): script sessions (a PTY, no answer to the
// terminal probe, the prompt recognised on a line of its own) in each
// pattern of internal/scriptclient, TERM xterm/vt100/dumb in turn, a new
// SSH connection per session. The figure is the number of sessions whose
// first command was lost. With --script-baseline-bin, another netdevd build
// (the one before the fix) runs the same sessions side by side, interleaved.
func benchScripts(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-scripts-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	a, err := startScriptDevice(c, c.netdevdBin, filepath.Join(dir, "a"))
	if err != nil {
		return nil, err
	}
	defer a.p.kill()
	var b *device
	if c.scriptBaselineBin != "" {
		if b, err = startScriptDevice(c, c.scriptBaselineBin, filepath.Join(dir, "b")); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		defer b.p.kill()
	}
	var rows []Row
	for _, p := range scriptclient.Patterns {
		ta, tb, err := runScriptPattern(ctx, c, p, a, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		rows = append(rows, scriptRow(c, p, ta, tb))
	}
	for _, d := range []*device{a, b} {
		if d == nil {
			continue
		}
		if err := d.p.stop(10 * time.Second); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

func startScriptDevice(c *benchConfig, bin, dir string) (*device, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	bc := *c
	bc.netdevdBin = bin
	return startDevice(&bc, dir)
}

// runScriptPattern runs c.scriptSessions sessions of p on a (and
// c.scriptBaselineSessions on b, when there is one) in c.scriptLanes lanes;
// each lane runs its sessions one after the other, alternating a and b.
func runScriptPattern(ctx context.Context, c *benchConfig, p scriptclient.Pattern, a, b *device) (ta, tb *scriptTally, err error) {
	ta = &scriptTally{byTerm: map[string]int{}}
	tb = &scriptTally{byTerm: map[string]int{}}
	next := make(chan int) // session numbers, shared by the lanes
	go func() {
		defer close(next)
		for i := range max(c.scriptSessions, c.scriptBaselineSessions) {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	var fatal error
	var wg sync.WaitGroup
	for lane := range c.scriptLanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(lane), 11))
			for i := range next {
				term := scriptclient.Terms[i%len(scriptclient.Terms)]
				for _, side := range []struct {
					d *device
					n int
					t *scriptTally
				}{{a, c.scriptSessions, ta}, {b, c.scriptBaselineSessions, tb}} {
					if side.d == nil || i >= side.n {
						continue
					}
					err := scriptSession(ctx, c, side.d, p, term, r)
					mu.Lock()
					if err != nil && !errors.Is(err, scriptclient.ErrLost) && fatal == nil {
						fatal = err
					}
					side.t.add(term, err)
					mu.Unlock()
				}
				mu.Lock()
				stop := fatal != nil
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	if fatal != nil {
		return nil, nil, fatal
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return ta, tb, nil
}

// scriptSession is one session on its own SSH connection (as scrapli and
// Netmiko open one per device). A device that died is fatal, not a loss.
func scriptSession(ctx context.Context, c *benchConfig, d *device, p scriptclient.Pattern, term string, r *rand.Rand) error {
	if err := d.p.alive(); err != nil {
		return err
	}
	cl, err := gossh.Dial("tcp", d.sshAddr, clientConfig("admin", d.signer))
	if err != nil {
		return err
	}
	defer cl.Close()
	err = scriptclient.Run(ctx, cl, scriptclient.Options{
		Pattern: p, Term: term, Prompt: "<netdevd>", Command: "screen-length disable",
		Wait: c.scriptWait, Rand: r,
	})
	if aerr := d.p.alive(); aerr != nil {
		return aerr
	}
	return err
}

func scriptRow(c *benchConfig, p scriptclient.Pattern, ta, tb *scriptTally) Row {
	lost := float64(ta.lost)
	// A count, not a timing: median = min = max = the count, runs = sessions.
	// TargetMax 0.5 on an integer count means "none lost".
	r := Row{Name: "script sessions, " + string(p) + ": commands lost", Unit: "lost",
		Median: lost, Min: lost, Max: lost, Runs: ta.sessions}.
		target(fmt.Sprintf("0 in %d", ta.sessions), 0.5, false)
	note := fmt.Sprintf("TERM %s; %d lanes of consecutive sessions, a connection each, wait %v",
		byTerm(ta), c.scriptLanes, c.scriptWait)
	if tb.sessions > 0 {
		r.Baseline, r.BaselineMedian, r.BaselineRuns = filepath.Base(c.scriptBaselineBin), float64(tb.lost), tb.sessions
		if tb.lost > 0 {
			r.Ratio = lost / float64(tb.lost)
		}
		note += fmt.Sprintf("; baseline TERM %s", byTerm(tb))
	}
	if ta.example != "" {
		ex := ta.example
		if len(ex) > 300 {
			ex = ex[:300] + "…"
		}
		note += "; first loss: " + ex
	}
	return r.note(note)
}

func byTerm(t *scriptTally) string {
	var parts []string
	for _, term := range scriptclient.Terms {
		parts = append(parts, fmt.Sprintf("%s %d", term, t.byTerm[term]))
	}
	return strings.Join(parts, ", ")
}

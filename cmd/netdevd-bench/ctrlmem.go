package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// procMemory is what a process holds, summed over processes or per device.
type procMemory struct {
	rss, heap, stacks, goroutines float64
}

func (a procMemory) plus(b procMemory) procMemory {
	return procMemory{a.rss + b.rss, a.heap + b.heap, a.stacks + b.stacks, a.goroutines + b.goroutines}
}

func (a procMemory) minus(b procMemory) procMemory {
	return procMemory{a.rss - b.rss, a.heap - b.heap, a.stacks - b.stacks, a.goroutines - b.goroutines}
}

// perDevice renders the share of one of n devices.
func (a procMemory) perDevice(n float64) string {
	return fmt.Sprintf("%.1f KB (Go heap %.1f KB, stacks %.1f KB, %.1f goroutines)",
		a.rss/n/1e3, a.heap/n/1e3, a.stacks/n/1e3, a.goroutines/n)
}

var adminClient = &http.Client{Timeout: 30 * time.Second}

// controllerMemory asks cloudsim (admin endpoint, loopback) to collect and
// return free memory to the OS — what the fleet does on its side before its
// figures — and then reads its RSS, so both sides are measured alike.
func controllerMemory(s *shard) (procMemory, error) {
	var m procMemory
	var st struct {
		HeapInuse  uint64 `json:"heap_inuse"`
		StackInuse uint64 `json:"stack_inuse"`
		Goroutines int    `json:"goroutines"`
	}
	if err := adminJSON(s, http.MethodPost, "/debug/free-os-memory", &st); err != nil {
		return m, err
	}
	kb, err := statusKB(s.cs.pid(), "VmRSS")
	if err != nil {
		return m, err
	}
	return procMemory{rss: float64(kb * 1024), heap: float64(st.HeapInuse), stacks: float64(st.StackInuse),
		goroutines: float64(st.Goroutines)}, nil
}

// admissionBusy is how many busy (503) answers the controller gave.
func admissionBusy(s *shard) (int, error) {
	var a struct {
		Busy int `json:"busy"`
	}
	err := adminJSON(s, http.MethodGet, "/admission", &a)
	return a.Busy, err
}

func adminJSON(s *shard, method, path string, v any) error { return adminCall(s, method, path, nil, v) }

// adminCall is adminJSON with a JSON request body (nil: none).
func adminCall(s *shard, method, path string, body, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(s.adminPort)+path, rd)
	if err != nil {
		return err
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return fmt.Errorf("cloudsim %s admin %s: %w", s.prefix, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20)) // GET /devices of a shard: ~300 B a device
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cloudsim %s admin %s: HTTP %d %s", s.prefix, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cloudsim %s admin %s: %w", s.prefix, path, err)
	}
	return nil
}

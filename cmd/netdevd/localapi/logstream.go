package localapi

// The log buffer's live stream (terminal monitor), `reset logbuffer` and
// the debugging switches.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// PathLogStream streams new log entries as newline-delimited JSON
// (one logbuf.Entry per line) until the client goes away.
const PathLogStream = "/v1/logs/stream"

// registerLogRoutes adds this file's endpoints to mux.
func (h *handler) registerLogRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathLogStream, h.logStream)
	mux.HandleFunc("POST /v1/logbuffer/reset", h.logReset)
	mux.HandleFunc("GET /v1/debugging", h.debugging)
	mux.HandleFunc("POST /v1/debugging", h.setDebugging)
}

// logStream holds the response open and writes each entry as it comes,
// flushed at once. It ends when the client disconnects (the request's
// context ends, which ends the device's subscription) or the daemon stops.
func (h *handler) logStream(w http.ResponseWriter, r *http.Request) {
	id, ok := h.caller(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // unsubscribes, whatever ends the loop
	entries, err := h.b.Device(id).SubscribeLogs(ctx)
	if err != nil {
		writeErr(w, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush() // the client knows it is subscribed
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-ctx.Done():
			return
		case e, open := <-entries:
			if !open {
				return
			}
			if err := enc.Encode(e); err != nil {
				return // the client has gone
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

func (h *handler) logReset(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (struct{}, error) { return struct{}{}, d.ResetLogBuffer(r.Context()) })
}

func (h *handler) debugging(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.DebugSwitches, error) { return d.Debugging(r.Context()) })
}

type debuggingBody struct {
	Which device.DebugSwitches `json:"which"`
	On    bool                 `json:"on"`
}

func (h *handler) setDebugging(w http.ResponseWriter, r *http.Request) {
	var body debuggingBody
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (struct{}, error) {
		return struct{}{}, d.SetDebugging(r.Context(), body.Which, body.On)
	})
}

// Client side.

// SubscribeLogs opens the log stream. The channel delivers every new entry
// and is closed when ctx ends, the daemon stops, or the stream breaks.
func (c *Client) SubscribeLogs(ctx context.Context) (<-chan logbuf.Entry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://netdevd"+PathLogStream, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set(TokenHeader, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("device daemon not reachable: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e errorBody
		json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		if resp.StatusCode == http.StatusForbidden {
			return nil, device.ErrPermission
		}
		return nil, errors.New(e.Error)
	}
	out := make(chan logbuf.Entry, 64)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 4096), maxBody)
		for sc.Scan() {
			var e logbuf.Entry
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (c *Client) ResetLogBuffer(ctx context.Context) error {
	return c.post(ctx, "/v1/logbuffer/reset", struct{}{}, nil)
}

func (c *Client) Debugging(ctx context.Context) (device.DebugSwitches, error) {
	var d device.DebugSwitches
	return d, c.get(ctx, "/v1/debugging", &d)
}

func (c *Client) SetDebugging(ctx context.Context, which device.DebugSwitches, on bool) error {
	return c.post(ctx, "/v1/debugging", debuggingBody{Which: which, On: on}, nil)
}

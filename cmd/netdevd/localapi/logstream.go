package localapi

// The log buffer's live stream (terminal monitor), `reset logbuffer` and
// the debugging switches.

import (
	"context"
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
// flushed at once (network.go's stream). It ends when the client
// disconnects (the request's context ends, which ends the device's
// subscription) or the daemon stops.
func (h *handler) logStream(w http.ResponseWriter, r *http.Request) {
	stream(h, w, r, func(ctx context.Context, d device.Device) (<-chan logbuf.Entry, error) { return d.SubscribeLogs(ctx) })
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
	return openStream[logbuf.Entry](ctx, c, http.MethodGet, PathLogStream, nil)
}

func (c *Client) ResetLogBuffer(ctx context.Context) error {
	return c.post(ctx, "/v1/logbuffer/reset", struct{}{}, nil)
}

func (c *Client) Debugging(ctx context.Context) (device.DebugSwitches, error) {
	return fetch[device.DebugSwitches](ctx, c, "/v1/debugging")
}

func (c *Client) SetDebugging(ctx context.Context, which device.DebugSwitches, on bool) error {
	return c.post(ctx, "/v1/debugging", debuggingBody{Which: which, On: on}, nil)
}

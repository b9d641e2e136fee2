package localapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/netdevd/netdevd/internal/device"
)

// The device itself over the API: CPU and memory, the startup file,
// flash:'s listing, `reboot`, and the console line a console shell holds.

func registerSystem(mux *http.ServeMux, h *handler) {
	mux.HandleFunc("GET /v1/resources", h.resources)
	mux.HandleFunc("GET /v1/startup", h.startup)
	mux.HandleFunc("GET /v1/dir", h.dir)
	mux.HandleFunc("POST /v1/flash/write", h.writeFile)
	mux.HandleFunc("POST /v1/reboot", h.reboot)
	mux.HandleFunc("GET /v1/console/attach", h.consoleAttach)
}

func (h *handler) resources(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.Resources, error) { return d.Resources(r.Context()) })
}

func (h *handler) startup(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.StartupInfo, error) { return d.Startup(r.Context()) })
}

func (h *handler) dir(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.FlashListing, error) { return d.Dir(r.Context()) })
}

// writeBody is a redirected display's output for a file on flash:.
type writeBody struct {
	File   string `json:"file"`
	Data   []byte `json:"data"`
	Append bool   `json:"append"`
}

func (h *handler) writeFile(w http.ResponseWriter, r *http.Request) {
	var body writeBody
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (struct{}, error) {
		return struct{}{}, d.WriteFile(r.Context(), body.File, body.Data, body.Append)
	})
}

// reboot answers first: the device goes once this request has ended.
func (h *handler) reboot(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (struct{}, error) { return struct{}{}, d.Reboot(r.Context()) })
}

// consoleAttach holds the console line for the calling shell while the
// request is open: the response's headers say it is held, the body never
// comes, and the line is given back when the shell goes away.
func (h *handler) consoleAttach(w http.ResponseWriter, r *http.Request) {
	id, ok := h.caller(w, r)
	if !ok {
		return
	}
	pid, err := strconv.Atoi(r.URL.Query().Get("pid"))
	if err != nil || pid <= 0 {
		httpError(w, http.StatusBadRequest, "bad pid")
		return
	}
	detach, err := h.b.Device(id).AttachConsole(r.Context(), pid)
	if err != nil {
		writeErr(w, err)
		return
	}
	defer detach()
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	<-r.Context().Done()
}

func (c *Client) Resources(ctx context.Context) (device.Resources, error) {
	return fetch[device.Resources](ctx, c, "/v1/resources")
}

func (c *Client) Startup(ctx context.Context) (device.StartupInfo, error) {
	return fetch[device.StartupInfo](ctx, c, "/v1/startup")
}

func (c *Client) Dir(ctx context.Context) (device.FlashListing, error) {
	return fetch[device.FlashListing](ctx, c, "/v1/dir")
}

func (c *Client) WriteFile(ctx context.Context, file string, data []byte, appendTo bool) error {
	return c.post(ctx, "/v1/flash/write", writeBody{File: file, Data: data, Append: appendTo}, nil)
}

func (c *Client) Reboot(ctx context.Context) error {
	return c.post(ctx, "/v1/reboot", struct{}{}, nil)
}

// AttachConsole holds the console line until detach (or ctx's end): it
// returns once the daemon has listed the line.
func (c *Client) AttachConsole(ctx context.Context, pid int) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://netdevd/v1/console/attach?pid=%d", pid), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := c.send(req)
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, resp.Body) // until the daemon or detach ends it
		resp.Body.Close()
	}()
	return func() { cancel(); <-done }, nil
}

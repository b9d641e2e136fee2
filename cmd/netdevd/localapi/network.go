package localapi

// The Network role: Vlan-interface1, the routing and ARP tables, name
// resolution, and ping and tracert, whose outcomes stream back as
// newline-delimited JSON (one value per line, flushed per value) the way
// the log stream does. The client cancels a probe by going away: the
// request's context ends, which ends the daemon's probe.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/netdevd/netdevd/internal/device"
)

const (
	PathPing    = "/v1/network/ping"
	PathTracert = "/v1/network/tracert"
)

// registerNetwork adds this file's endpoints to mux.
func registerNetwork(mux *http.ServeMux, h *handler) {
	mux.HandleFunc("GET /v1/network/interface", h.netInterface)
	mux.HandleFunc("GET /v1/network/routes", h.netRoutes)
	mux.HandleFunc("GET /v1/network/neighbors", h.netNeighbors)
	mux.HandleFunc("GET /v1/network/resolve", h.netResolve)
	mux.HandleFunc("POST "+PathPing, h.netPing)
	mux.HandleFunc("POST "+PathTracert, h.netTracert)
}

func (h *handler) netInterface(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.InterfaceStatus, error) { return d.Interface(r.Context()) })
}

func (h *handler) netRoutes(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) ([]device.Route, error) { return d.Routes(r.Context()) })
}

func (h *handler) netNeighbors(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) ([]device.Neighbor, error) { return d.Neighbors(r.Context()) })
}

func (h *handler) netResolve(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (netip.Addr, error) {
		return d.ResolveHost(r.Context(), r.URL.Query().Get("name"))
	})
}

func (h *handler) netPing(w http.ResponseWriter, r *http.Request) {
	var req device.PingRequest
	if readJSON(w, r, &req) {
		stream(h, w, r, func(ctx context.Context, d device.Device) (<-chan device.PingReply, error) { return d.Ping(ctx, req) })
	}
}

func (h *handler) netTracert(w http.ResponseWriter, r *http.Request) {
	var req device.TracertRequest
	if readJSON(w, r, &req) {
		stream(h, w, r, func(ctx context.Context, d device.Device) (<-chan device.TracertProbe, error) {
			return d.Tracert(ctx, req)
		})
	}
}

// stream answers with every value open's channel delivers, one JSON line
// each, flushed at once, until the channel closes, the client goes away or
// the daemon stops (the log stream, ping and tracert).
func stream[T any](h *handler, w http.ResponseWriter, r *http.Request, open func(context.Context, device.Device) (<-chan T, error)) {
	id, ok := h.caller(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // ends the device's side, whatever ends the loop
	values, err := open(ctx, h.b.Device(id))
	if err != nil {
		writeErr(w, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-ctx.Done():
			return
		case v, open := <-values:
			if !open {
				return
			}
			if err := enc.Encode(v); err != nil {
				return // the client has gone
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

// Client side.

func (c *Client) Interface(ctx context.Context) (device.InterfaceStatus, error) {
	return fetch[device.InterfaceStatus](ctx, c, "/v1/network/interface")
}

func (c *Client) Routes(ctx context.Context) ([]device.Route, error) {
	return fetch[[]device.Route](ctx, c, "/v1/network/routes")
}

func (c *Client) Neighbors(ctx context.Context) ([]device.Neighbor, error) {
	return fetch[[]device.Neighbor](ctx, c, "/v1/network/neighbors")
}

func (c *Client) ResolveHost(ctx context.Context, name string) (netip.Addr, error) {
	var a netip.Addr
	return a, c.get(ctx, "/v1/network/resolve?name="+url.QueryEscape(name), &a)
}

func (c *Client) Ping(ctx context.Context, req device.PingRequest) (<-chan device.PingReply, error) {
	return openStream[device.PingReply](ctx, c, http.MethodPost, PathPing, req)
}

func (c *Client) Tracert(ctx context.Context, req device.TracertRequest) (<-chan device.TracertProbe, error) {
	return openStream[device.TracertProbe](ctx, c, http.MethodPost, PathTracert, req)
}

// openStream sends in (nil: no body) to path and delivers the streamed
// values. The channel is closed when the stream ends, breaks, or ctx ends.
func openStream[T any](ctx context.Context, c *Client, method, path string, in any) (<-chan T, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://netdevd"+path, body)
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
	out := make(chan T, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 4096), maxBody)
		for sc.Scan() {
			var v T
			if json.Unmarshal(sc.Bytes(), &v) != nil {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

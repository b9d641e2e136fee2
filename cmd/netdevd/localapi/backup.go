package localapi

import (
	"context"
	"net/http"

	"github.com/netdevd/netdevd/internal/device"
)

// Configuration archives, rollback and SFTP backup over the API.

func registerBackup(mux *http.ServeMux, h *handler) {
	mux.HandleFunc("POST /v1/archive", h.archiveSave)
	mux.HandleFunc("GET /v1/archive", h.archives)
	mux.HandleFunc("POST /v1/replace", h.replace)
	mux.HandleFunc("POST /v1/backup", h.backup)
	mux.HandleFunc("POST /v1/restore", h.restore)
}

func (h *handler) archiveSave(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (string, error) { return d.ArchiveConfiguration(r.Context()) })
}

func (h *handler) archives(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) (device.ArchiveInfo, error) { return d.Archives(r.Context()) })
}

func (h *handler) replace(w http.ResponseWriter, r *http.Request) {
	var body fileBody
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (struct{}, error) {
		return struct{}{}, d.ReplaceConfiguration(r.Context(), body.File)
	})
}

// The SFTP password travels in the request body over the private socket;
// neither side logs request bodies.
func (h *handler) backup(w http.ResponseWriter, r *http.Request) {
	var body device.SFTPTarget
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (struct{}, error) { return struct{}{}, d.BackupStartup(r.Context(), body) })
}

func (h *handler) restore(w http.ResponseWriter, r *http.Request) {
	var body device.SFTPTarget
	if !readJSON(w, r, &body) {
		return
	}
	answer(h, w, r, func(d device.Device) (struct{}, error) { return struct{}{}, d.RestoreStartup(r.Context(), body) })
}

func (c *Client) ArchiveConfiguration(ctx context.Context) (string, error) {
	var name string
	return name, c.post(ctx, "/v1/archive", struct{}{}, &name)
}

func (c *Client) Archives(ctx context.Context) (device.ArchiveInfo, error) {
	return fetch[device.ArchiveInfo](ctx, c, "/v1/archive")
}

func (c *Client) ReplaceConfiguration(ctx context.Context, file string) error {
	return c.post(ctx, "/v1/replace", fileBody{File: file}, nil)
}

func (c *Client) BackupStartup(ctx context.Context, t device.SFTPTarget) error {
	return c.post(ctx, "/v1/backup", t, nil)
}

func (c *Client) RestoreStartup(ctx context.Context, t device.SFTPTarget) error {
	return c.post(ctx, "/v1/restore", t, nil)
}

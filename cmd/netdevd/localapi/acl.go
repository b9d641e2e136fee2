package localapi

import (
	"context"
	"net/http"

	"github.com/netdevd/netdevd/internal/device"
)

// ACL match counters over the API (`display acl` in a shell child).

func registerACL(mux *http.ServeMux, h *handler) {
	mux.HandleFunc("GET /v1/acl/matches", h.aclMatches)
}

func (h *handler) aclMatches(w http.ResponseWriter, r *http.Request) {
	answer(h, w, r, func(d device.Device) ([]device.ACLMatch, error) { return d.ACLMatches(r.Context()) })
}

// ACLMatches is `display acl`'s counts.
func (c *Client) ACLMatches(ctx context.Context) ([]device.ACLMatch, error) {
	return fetch[[]device.ACLMatch](ctx, c, "/v1/acl/matches")
}

package localapi

import (
	"context"
	"net/http"

	"github.com/netdevd/netdevd/cli"
)

// ACL match counters over the API (`display acl` in a shell child).

func registerACL(mux *http.ServeMux, h *handler) {
	mux.HandleFunc("GET /v1/acl/matches", h.aclMatches)
}

func (h *handler) aclMatches(w http.ResponseWriter, r *http.Request) {
	device(h, w, r, func(d cli.Device) ([]cli.ACLMatch, error) {
		if c, ok := d.(cli.ACLCounter); ok {
			return c.ACLMatches(r.Context())
		}
		return []cli.ACLMatch{}, nil
	})
}

// ACLMatches implements cli.ACLCounter.
func (c *Client) ACLMatches(ctx context.Context) ([]cli.ACLMatch, error) {
	var m []cli.ACLMatch
	return m, c.get(ctx, "/v1/acl/matches", &m)
}

package cloudmgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// Verdict lines Unbind returns for the terminal.
const (
	UnbindSucceeded = "Unbinding succeeded. The device registers with the cloud again."
	UnbindInvalid   = "Unbinding failed: the unbinding code is invalid."
)

// ErrNoServer means no cloud server answered the unbinding request.
var ErrNoServer = errors.New("no cloud server answered")

// Unbind sends the unbinding code (protocol §5) to the server in use or,
// when none, to the first server of the list that answers. It returns the
// verdict line to print; an error means there is no verdict. The code is
// never logged. After success the state machine starts §1 again at once.
func (c *Client) Unbind(ctx context.Context, code string) (string, error) {
	g := c.snapshotGoal()
	c.mu.Lock()
	var cands []server
	if c.conn != nil {
		cands = []server{c.conn.srv}
	}
	c.mu.Unlock()
	if cands == nil {
		cands = serverList(g)
	}
	if len(cands) == 0 {
		return "", errors.New("no cloud server domain is configured")
	}
	res := c.newResolver(g)
	var lastErr error
	for _, srv := range cands {
		status, body, err := c.unbindAt(ctx, res, srv, code)
		if err != nil {
			lastErr = fmt.Errorf("%s: %v", srv.Domain, err)
			continue
		}
		switch status {
		case http.StatusOK:
			var r wire.UnbindResponse
			if wire.DecodeBody(body, &r, "result") == nil && r.Result == wire.ResultSuccess {
				c.logEvent("CLOUD_UNBOUND", fmt.Sprintf("Device unbound by cloud server %s.", srv.Domain))
				c.signal(func(p *pending) { p.unbound = true })
				return UnbindSucceeded, nil
			}
			return "", fmt.Errorf("%s: protocol error in unbind answer", srv.Domain)
		case http.StatusForbidden:
			return UnbindInvalid, nil
		default:
			return "", fmt.Errorf("%s answered HTTP %d", srv.Domain, status)
		}
	}
	return "", fmt.Errorf("%w (%v)", ErrNoServer, lastErr)
}

func (c *Client) unbindAt(ctx context.Context, res *resolver, srv server, code string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*c.o.StepTimeout)
	defer cancel()
	addr, err := res.resolve(ctx, srv.Domain)
	if err != nil {
		return 0, nil, err
	}
	s := &session{c: c, srv: srv, addr: addr, res: res}
	defer s.dropHTTP()
	// post updates Process state only for the main attempt; use a copy.
	return s.postQuiet(ctx, wire.PathUnbind, wire.UnbindRequest{Serial: c.o.Serial, Code: code})
}

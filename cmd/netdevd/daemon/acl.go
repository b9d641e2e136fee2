package daemon

import (
	"context"

	"github.com/netdevd/netdevd/internal/device"
)

// ACLMatches is the SSH server's per-rule match counts (`display acl`;
// cli.ACLCounter). Reading counters needs no role beyond the caller's.
func (v callerView) ACLMatches(context.Context) ([]device.ACLMatch, error) {
	if v.d.features.ssh == nil {
		return nil, nil
	}
	return v.d.features.ssh.ACLMatches(), nil
}

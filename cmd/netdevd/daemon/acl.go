package daemon

import (
	"context"

	"github.com/netdevd/netdevd/cli"
)

// ACLMatches is the SSH server's per-rule match counts (`display acl`;
// cli.ACLCounter). Reading counters needs no role beyond the caller's.
func (v device) ACLMatches(context.Context) ([]cli.ACLMatch, error) {
	if v.d.features.ssh == nil {
		return nil, nil
	}
	return v.d.features.ssh.ACLMatches(), nil
}

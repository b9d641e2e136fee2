package shell

import "github.com/netdevd/netdevd/cli"

// The grammar's session is what the shells drive.
var _ Engine = (*cli.Session)(nil)

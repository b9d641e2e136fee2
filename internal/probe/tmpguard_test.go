package probe

import (
	"os"
	"testing"

	"github.com/netdevd/netdevd/internal/tmpguard"
)

// The tests leave nothing in the temporary directory.
func TestMain(m *testing.M) { os.Exit(tmpguard.Main(m)) }

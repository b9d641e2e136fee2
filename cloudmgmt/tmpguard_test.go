package cloudmgmt

import (
	"os"
	"testing"

	"github.com/netdevd/netdevd/internal/tmpguard"
)

// The tests leave nothing in the temporary directory: the TLS material
// that all tests share (testTLS) goes when they end.
func TestMain(m *testing.M) {
	os.Exit(tmpguard.Main(runRemovingTLS{m}))
}

type runRemovingTLS struct{ m *testing.M }

func (r runRemovingTLS) Run() int {
	defer func() {
		if tlsDir != "" {
			os.RemoveAll(tlsDir)
		}
	}()
	return r.m.Run()
}

package fleet

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

func TestParseTarget(t *testing.T) {
	tg, err := ParseTarget("https://127.0.0.1:1234")
	if err != nil || tg.Host != "127.0.0.1" || tg.Port != 1234 || tg.Plain || tg.Addr.String() != "127.0.0.1" {
		t.Fatalf("%+v %v", tg, err)
	}
	tg, err = ParseTarget("http://localhost")
	if err != nil || tg.Port != 19443 || !tg.Plain || !tg.Addr.IsLoopback() {
		t.Fatalf("%+v %v", tg, err)
	}
	for _, bad := range []string{"ftp://x", "https://", "https://127.0.0.1:0", "no-scheme"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSerialsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s")
	if err := WriteSerials(p, "AB", 3); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.HasSuffix(string(b), "\nAB000001\nAB000002\nAB000003\n") || !strings.HasPrefix(string(b), "#") {
		t.Fatalf("%q", b)
	}
}

// A small fleet against an in-process controller: all Established, the
// report is filled, Run returns after cancel.
func TestSmallFleet(t *testing.T) {
	const n = 20
	dir := t.TempDir()
	tc, err := controller.EnsureTLS(dir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := controller.CAPool(dir)
	var serials []string
	for i := 1; i <= n; i++ {
		serials = append(serials, Serial("SF", i))
	}
	srv := controller.New(controller.Config{Serials: serials})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	sctx, scancel := context.WithCancel(context.Background())
	sdone := make(chan struct{})
	go func() { defer close(sdone); srv.Serve(sctx, ln, tc) }()
	defer func() { scancel(); <-sdone }()
	tg, _ := ParseTarget("https://" + ln.Addr().String())
	f, err := New(Options{Count: n, SerialPrefix: "SF", Targets: []Target{tg}, RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	var c Counts
	deadline := time.Now().Add(20 * time.Second)
	for {
		time.Sleep(50 * time.Millisecond)
		if c = f.Sample(); c.Settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all Established: %s", c.Line())
		}
	}
	r := f.Final(c)
	cancel()
	<-done
	if r.AllEstablishedSeconds <= 0 || r.Up != n || r.Established != n || r.PerDeviceHeapBytes <= 0 {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.Text(), "time to all Established") {
		t.Fatal(r.Text())
	}
}

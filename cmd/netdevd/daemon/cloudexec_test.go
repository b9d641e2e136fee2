package daemon

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/cmd/netdevd/localapi"
)

// TestCloudExecWaitingForInput: a cloud exec line that would wait for an
// answer (save without force) gets what `netdevd exec save` gets, a script
// whose standard input is closed: the question, then "Configuration is not
// saved!", ok false; nothing is saved, and the exec after it runs.
func TestCloudExecWaitingForInput(t *testing.T) {
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	tc, err := controller.EnsureTLS(tlsDir, []string{"cloud.exec.test"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctrl := controller.New(controller.Config{})
	cctx, cancelCtrl := context.WithCancel(context.Background())
	ctrlDone := make(chan struct{})
	go func() { defer close(ctrlDone); ctrl.Serve(cctx, ln, tc) }()
	t.Cleanup(func() { cancelCtrl(); <-ctrlDone })

	flash := filepath.Join(dir, "flash")
	d, err := New(Options{DataDir: flash, SSHListen: "127.0.0.1:0", CAFile: filepath.Join(tlsDir, controller.CAFile)})
	if err != nil {
		t.Fatal(err)
	}
	ctrl.AddSerial(d.Serial(), "")
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-runDone })
	local := localapi.NewClient(SocketPath(flash), "")
	t.Cleanup(func() { local.Close() })
	waitUntil(t, "the local API", func() bool { _, err := local.WhoAmI(ctx); return err == nil })

	if out, ok := d.RunLines(ctx, "system-view", "ip host cloud.exec.test 127.0.0.1",
		fmt.Sprintf("cloud-management server port %d", ln.Addr().(*net.TCPAddr).Port),
		"cloud-management server domain cloud.exec.test"); !ok {
		t.Fatal(out)
	}
	waitUntil(t, "the controller holds the connection", func() bool {
		for _, di := range ctrl.Devices() {
			if di.Serial == d.Serial() && di.Connected {
				return true
			}
		}
		return false
	})

	script, scriptOK, err := local.Exec(ctx, []string{"save"}) // netdevd exec save </dev/null
	if err != nil {
		t.Fatal(err)
	}
	ectx, ecancel := context.WithTimeout(ctx, 10*time.Second)
	defer ecancel()
	r, err := ctrl.Exec(ectx, d.Serial(), []string{"save"})
	if err != nil {
		t.Fatal(err)
	}
	want := "The current configuration will be written to the device. Are you sure? [Y/N]:\nConfiguration is not saved!\n"
	if r.Output != want || r.OK || script != want || scriptOK {
		t.Fatalf("cloud exec %+v, netdevd exec %q %v; want %q, not ok", r, script, scriptOK, want)
	}
	if exists, _ := d.deviceFor(Console).FileExists(ctx, "startup.cfg"); exists {
		t.Fatal("saved without an answer")
	}
	r, err = ctrl.Exec(ectx, d.Serial(), []string{"display clock"})
	if err != nil || !r.OK || !strings.Contains(r.Output, ":") {
		t.Fatalf("the exec after: %+v %v", r, err)
	}
}

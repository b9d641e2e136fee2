package localapi

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
)

// fakeSystem is the fake backend's system role: the console lines held and
// the reboots asked, with the request context each reboot came with.
type fakeSystem struct {
	mu       sync.Mutex
	consoles map[int]bool
	changed  chan struct{} // a console line was given back
	reboots  []context.Context
	files    map[string]string // written by WriteFile
}

func (s *fakeSystem) held() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for pid := range s.consoles {
		pids = append(pids, pid)
	}
	return pids
}

func (d fakeDevice) Resources(context.Context) (device.Resources, error) {
	return device.Resources{CPU: device.CPUUsage{Last5Sec: 3, Last1Min: 4, Last5Min: 5}, Memory: device.MemoryUsage{Total: 100, Free: 40}}, nil
}

func (d fakeDevice) Startup(context.Context) (device.StartupInfo, error) {
	return device.StartupInfo{Current: "startup.cfg"}, nil
}

func (d fakeDevice) Dir(context.Context) (device.FlashListing, error) {
	if d.id.Role != config.RoleAdmin {
		return device.FlashListing{}, device.ErrPermission
	}
	return device.FlashListing{Files: []device.FlashFile{{Name: "startup.cfg", Size: 42}}, Total: 1 << 30, Free: 1 << 29}, nil
}

func (d fakeDevice) WriteFile(_ context.Context, file string, data []byte, appendTo bool) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	if file == "serial" {
		return device.Message("The file flash:/serial is used by the system.")
	}
	d.b.sys.mu.Lock()
	defer d.b.sys.mu.Unlock()
	if d.b.sys.files == nil {
		d.b.sys.files = map[string]string{}
	}
	if !appendTo {
		d.b.sys.files[file] = ""
	}
	d.b.sys.files[file] += string(data)
	return nil
}

func (d fakeDevice) Reboot(ctx context.Context) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	d.b.sys.mu.Lock()
	d.b.sys.reboots = append(d.b.sys.reboots, ctx)
	d.b.sys.mu.Unlock()
	return nil
}

func (d fakeDevice) AttachConsole(_ context.Context, pid int) (func(), error) {
	if d.id.User != "console" {
		return nil, device.ErrPermission
	}
	s := &d.b.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.consoles == nil {
		s.consoles = map[int]bool{}
	}
	s.consoles[pid] = true
	return func() {
		s.mu.Lock()
		delete(s.consoles, pid)
		s.mu.Unlock()
		s.changed <- struct{}{}
	}, nil
}

func TestSystemCalls(t *testing.T) {
	b, sock := serve(t)
	c := NewClient(sock, "")
	defer c.Close()
	ctx := context.Background()
	if r, err := c.Resources(ctx); err != nil || r.CPU.Last5Min != 5 || r.Memory.Total != 100 {
		t.Errorf("resources %+v %v", r, err)
	}
	if st, err := c.Startup(ctx); err != nil || st.Current != "startup.cfg" || st.Next != "" {
		t.Errorf("startup %+v %v", st, err)
	}
	if l, err := c.Dir(ctx); err != nil || len(l.Files) != 1 || l.Files[0].Size != 42 || l.Free != 1<<29 {
		t.Errorf("dir %+v %v", l, err)
	}
	if err := c.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	// The daemon's reboot waits for the request that asked: its context
	// ends with the call.
	b.sys.mu.Lock()
	rctx := b.sys.reboots[0]
	b.sys.mu.Unlock()
	select {
	case <-rctx.Done():
	case <-time.After(10 * time.Second):
		t.Error("the reboot request's context never ended")
	}
	op := NewClient(sock, "op-token")
	defer op.Close()
	if err := op.Reboot(ctx); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator reboot: %v", err)
	}
	if _, err := op.Dir(ctx); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator dir: %v", err)
	}
}

// A redirected display's output reaches the device's WriteFile: replaced,
// appended; the device's refusal comes back in its words, the operator's
// as ErrPermission.
func TestWriteFileCall(t *testing.T) {
	b, sock := serve(t)
	c := NewClient(sock, "")
	defer c.Close()
	ctx := context.Background()
	for _, w := range []struct {
		data     string
		appendTo bool
	}{{"old\n", false}, {"one\n", false}, {"two\n", true}} {
		if err := c.WriteFile(ctx, "out.txt", []byte(w.data), w.appendTo); err != nil {
			t.Fatal(err)
		}
	}
	b.sys.mu.Lock()
	got := b.sys.files["out.txt"]
	b.sys.mu.Unlock()
	if got != "one\ntwo\n" {
		t.Errorf("file holds %q", got)
	}
	if err := c.WriteFile(ctx, "serial", []byte("x"), false); err == nil || err.Error() != "The file flash:/serial is used by the system." {
		t.Errorf("refusal: %v", err)
	}
	op := NewClient(sock, "op-token")
	defer op.Close()
	if err := op.WriteFile(ctx, "out.txt", []byte("x"), false); !errors.Is(err, device.ErrPermission) {
		t.Errorf("operator write: %v", err)
	}
}

func TestConsoleAttach(t *testing.T) {
	b, sock := serve(t)
	b.sys.changed = make(chan struct{}, 4)
	c := NewClient(sock, "")
	defer c.Close()
	ctx := context.Background()
	detach, err := c.AttachConsole(ctx, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Held once AttachConsole returns, while other calls go on.
	if pids := b.sys.held(); len(pids) != 1 || pids[0] != os.Getpid() {
		t.Fatalf("held %v", pids)
	}
	if _, err := c.Version(ctx); err != nil {
		t.Fatal(err)
	}
	detach()
	<-b.sys.changed
	if pids := b.sys.held(); len(pids) != 0 {
		t.Errorf("still held after detach: %v", pids)
	}
	// A shell that goes away without detaching gives the line back too.
	ctx2, cancel := context.WithCancel(ctx)
	if _, err := c.AttachConsole(ctx2, 77); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-b.sys.changed
	if pids := b.sys.held(); len(pids) != 0 {
		t.Errorf("held after the shell went: %v", pids)
	}
	op := NewClient(sock, "op-token")
	defer op.Close()
	if _, err := op.AttachConsole(ctx, 5); !errors.Is(err, device.ErrPermission) {
		t.Errorf("a VTY session attached the console: %v", err)
	}
}

package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/store"
)

// fakeBackend is a daemon reduced to its store and a token table.
type fakeBackend struct {
	st     *store.Store
	tokens map[string]device.Identity
	unbind []string
	log    *logbuf.Buffer       // logstream_test.go
	debug  device.DebugSwitches // logstream_test.go
	sys    fakeSystem           // system_test.go
}

var operator = device.Identity{User: "op", Role: config.RoleOperator, Line: "VTY 1"}

func (b *fakeBackend) Identify(tok string) (device.Identity, error) {
	if tok == "" {
		return device.Identity{User: "console", Role: config.RoleAdmin}, nil
	}
	id, ok := b.tokens[tok]
	if !ok {
		return device.Identity{}, errors.New("unknown token")
	}
	return id, nil
}

func (b *fakeBackend) Device(id device.Identity) device.Device { return fakeDevice{b: b, id: id} }
func (b *fakeBackend) Running() (config.Config, uint64)        { return b.st.Get() }

func (b *fakeBackend) Swap(id device.Identity, base uint64, next config.Config) (uint64, error) {
	if id.Role != config.RoleAdmin {
		return 0, device.ErrPermission
	}
	return b.st.CompareAndSwap(base, next)
}

func (b *fakeBackend) Exec(_ context.Context, id device.Identity, lines []string) (string, bool) {
	return fmt.Sprintf("%s ran %d lines\n", id.User, len(lines)), len(lines) > 0
}

type fakeDevice struct {
	b  *fakeBackend
	id device.Identity
}

func (d fakeDevice) ACLMatches(context.Context) ([]device.ACLMatch, error) { return nil, nil }

func (d fakeDevice) Running(context.Context) (config.Config, error) {
	c, _ := d.b.st.Get()
	return c, nil
}
func (d fakeDevice) Update(context.Context, func(*config.Config) error) error {
	return errors.New("not over the API")
}
func (d fakeDevice) Save(_ context.Context, file string) error {
	if d.id.Role != config.RoleAdmin {
		return device.ErrPermission
	}
	if file == "bad" {
		return errors.New("invalid file name")
	}
	return nil
}
func (d fakeDevice) FileExists(_ context.Context, f string) (bool, error) {
	return f == "startup.cfg", nil
}
func (d fakeDevice) SavedConfiguration(context.Context) (string, error) { return "#\nreturn\n", nil }
func (d fakeDevice) Version(context.Context) (device.VersionInfo, error) {
	return device.VersionInfo{Serial: "SN1"}, nil
}
func (d fakeDevice) CloudStatus(context.Context) (device.CloudStatus, error) {
	return device.CloudStatus{ConnState: "Established", ServerPort: 19443}, nil
}
func (d fakeDevice) ResetCloudTunnel(context.Context) error { return nil }
func (d fakeDevice) Unbind(_ context.Context, code string) (string, error) {
	d.b.unbind = append(d.b.unbind, code)
	return "Unbinding succeeded.", nil
}
func (d fakeDevice) DHCPStatus(context.Context) (device.DHCPStatus, error) {
	return device.DHCPStatus{State: "BOUND"}, nil
}
func (d fakeDevice) DNSHosts(context.Context) ([]device.DNSHost, error) { return nil, nil }
func (d fakeDevice) Users(context.Context) ([]device.VTYSession, error) {
	return []device.VTYSession{{Idx: 0, User: d.id.User}}, nil
}
func (d fakeDevice) LogBuffer(context.Context) (logbuf.Snapshot, error) {
	return logbuf.Snapshot{Size: 512}, nil
}

func serve(t *testing.T) (*fakeBackend, string) {
	t.Helper()
	b := &fakeBackend{st: store.New(config.Default()), tokens: map[string]device.Identity{"op-token": operator},
		log: logbuf.New(16, nil, nil)}
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, sock, b) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return b, sock
}

func TestSocketIsPrivate(t *testing.T) {
	_, sock := serve(t)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestConcurrentUpdatesThroughAPI(t *testing.T) {
	b, sock := serve(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := NewClient(sock, "")
			defer c.Close()
			for j := 0; j < 10; j++ {
				err := c.Update(ctx, func(cfg *config.Config) error {
					cfg.IPHosts = append(cfg.IPHosts, config.IPHost{Name: fmt.Sprintf("h%d-%d", i, j)})
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	cfg, _ := b.st.Get()
	if len(cfg.IPHosts) != 80 {
		t.Fatalf("%d hosts after 80 concurrent updates", len(cfg.IPHosts))
	}
}

func TestOperatorMayReadButNotWrite(t *testing.T) {
	b, sock := serve(t)
	c := NewClient(sock, "op-token")
	defer c.Close()
	ctx := context.Background()
	id, err := c.WhoAmI(ctx)
	if err != nil || id != operator {
		t.Fatalf("whoami = %+v, %v", id, err)
	}
	if st, err := c.CloudStatus(ctx); err != nil || st.ConnState != "Established" {
		t.Fatalf("operator display failed: %+v %v", st, err)
	}
	err = c.Update(ctx, func(cfg *config.Config) error { cfg.Sysname = "x"; return nil })
	if !errors.Is(err, device.ErrPermission) {
		t.Fatalf("operator update: %v, want permission denied", err)
	}
	if err := c.Save(ctx, "startup.cfg"); !errors.Is(err, device.ErrPermission) {
		t.Fatalf("operator save: %v", err)
	}
	if cfg, _ := b.st.Get(); cfg.Sysname != config.DefaultSysname {
		t.Fatal("operator changed the configuration")
	}
}

func TestUnknownTokenRefused(t *testing.T) {
	_, sock := serve(t)
	c := NewClient(sock, "forged")
	defer c.Close()
	if _, err := c.Running(context.Background()); err == nil {
		t.Fatal("forged token accepted")
	}
}

func TestInvalidConfigRefused(t *testing.T) {
	b, sock := serve(t)
	c := NewClient(sock, "")
	defer c.Close()
	err := c.Update(context.Background(), func(cfg *config.Config) error { cfg.Cloud.Ping = 1; return nil })
	if err == nil {
		t.Fatal("ping 1 accepted over the API")
	}
	if cfg, _ := b.st.Get(); cfg.Cloud.Ping != config.DefaultPing {
		t.Fatal("invalid config stored")
	}
}

func TestCallsRoundTrip(t *testing.T) {
	b, sock := serve(t)
	c := NewClient(sock, "")
	defer c.Close()
	ctx := context.Background()
	if ok, _ := c.FileExists(ctx, "startup.cfg"); !ok {
		t.Error("file-exists lost")
	}
	if err := c.Save(ctx, "bad"); err == nil || err.Error() != "invalid file name" {
		t.Errorf("save error not carried: %v", err)
	}
	if v, _ := c.Unbind(ctx, "code-1"); v != "Unbinding succeeded." || len(b.unbind) != 1 || b.unbind[0] != "code-1" {
		t.Errorf("unbind: %q %v", v, b.unbind)
	}
	if out, ok, err := c.Exec(ctx, []string{"a", "b"}); err != nil || !ok || out != "console ran 2 lines\n" {
		t.Errorf("exec: %q %v %v", out, ok, err)
	}
	if v, _ := c.Version(ctx); v.Serial != "SN1" {
		t.Errorf("version %+v", v)
	}
	if s, _ := c.DHCPStatus(ctx); s.State != "BOUND" {
		t.Errorf("dhcp %+v", s)
	}
	if u, _ := c.Users(ctx); len(u) != 1 || u[0].User != "console" {
		t.Errorf("users %+v", u)
	}
}

// TestListenReadyWhenVisible: the socket file appears listening and
// private, so a front end that finds it never gets "connection refused"
// and nobody else could connect in between.
func TestListenReadyWhenVisible(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	if err := os.WriteFile(sock, nil, 0o644); err != nil { // a stale leftover
		t.Fatal(err)
	}
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v %v", fi, err)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := os.Stat(sock + ".new"); !os.IsNotExist(err) {
		t.Errorf("the temporary name is left: %v", err)
	}
}

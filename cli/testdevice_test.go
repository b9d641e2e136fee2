package cli

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// fakeDevice is an in-memory Device. Update really applies the change to a
// config.Config, validates it, and runs change twice (on two fresh copies)
// so that a handler whose change is not a pure function of its argument
// shows up in tests.
type fakeDevice struct {
	cfg     config.Config
	files   map[string]string // flash: file name → content
	saves   []string
	unbinds []string
	resets  int
	// log buffer and debugging (infocenter_test.go)
	logResets int
	debug     device.DebugSwitches
	logs      chan logbuf.Entry
	deny      bool        // every call returns ErrPermission
	reboots   int         // Reboot calls (testdevice_system_test.go)
	net       fakeNetwork // interface, routes, ARP, ping (testdevice_network_test.go)
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{cfg: config.Default(), files: map[string]string{}}
}

func (d *fakeDevice) check() error {
	if d.deny {
		return device.ErrPermission
	}
	return nil
}

func (d *fakeDevice) Running(ctx context.Context) (config.Config, error) {
	return d.cfg.Clone(), nil
}

func (d *fakeDevice) Update(ctx context.Context, change func(*config.Config) error) error {
	if err := d.check(); err != nil {
		return err
	}
	first := d.cfg.Clone()
	if err := change(&first); err != nil {
		return err
	}
	second := d.cfg.Clone()
	if err := change(&second); err != nil {
		return err
	}
	if Render(first) != Render(second) {
		panic("change is not a function of its argument")
	}
	if err := second.Validate(); err != nil {
		return err
	}
	d.cfg = second
	return nil
}

func (d *fakeDevice) Save(ctx context.Context, file string) error {
	if err := d.check(); err != nil {
		return err
	}
	d.saves = append(d.saves, file)
	d.files[file] = Render(d.cfg)
	return nil
}

func (d *fakeDevice) FileExists(ctx context.Context, file string) (bool, error) {
	_, ok := d.files[file]
	return ok, nil
}

func (d *fakeDevice) SavedConfiguration(ctx context.Context) (string, error) {
	return d.files["startup.cfg"], nil
}

func (d *fakeDevice) CloudStatus(ctx context.Context) (device.CloudStatus, error) {
	return device.CloudStatus{ConnState: "Idle", DeviceState: "Idle", ProcessState: "Idle", Now: testNow}, nil
}

func (d *fakeDevice) ResetCloudTunnel(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	d.resets++
	return nil
}

func (d *fakeDevice) Unbind(ctx context.Context, code string) (string, error) {
	if err := d.check(); err != nil {
		return "", err
	}
	d.unbinds = append(d.unbinds, code)
	return "Unbinding code sent.", nil
}

func (d *fakeDevice) DHCPStatus(ctx context.Context) (device.DHCPStatus, error) {
	return device.DHCPStatus{Enabled: d.cfg.Vlan1.DHCPAlloc}, nil
}

func (d *fakeDevice) DNSHosts(ctx context.Context) ([]device.DNSHost, error) {
	var hosts []device.DNSHost
	for _, h := range d.cfg.IPHosts {
		hosts = append(hosts, device.DNSHost{Name: h.Name, Type: "S", Addr: h.Addr.String()})
	}
	return hosts, nil
}

// ACLMatches counts nothing: the fake device has no SSH server.
func (d *fakeDevice) ACLMatches(context.Context) ([]device.ACLMatch, error) { return nil, nil }

func (d *fakeDevice) Users(ctx context.Context) ([]device.VTYSession, error) {
	return []device.VTYSession{
		{Idx: 177, Line: "VTY 0", Since: testNow, Pid: 1011, Type: "SSH", User: "admin", Source: "192.0.2.7", Current: true},
		{Idx: 178, Line: "VTY 1", Idle: 75 * time.Second, Since: testNow, Pid: 1012, Type: "SSH", User: "ops", Source: "192.0.2.8"},
	}, nil
}

func (d *fakeDevice) LogBuffer(ctx context.Context) (logbuf.Snapshot, error) {
	if d.logResets > 0 {
		return logbuf.Snapshot{Size: d.cfg.InfoCenter.LogBufferSize}, nil
	}
	return logbuf.Snapshot{Size: d.cfg.InfoCenter.LogBufferSize, Entries: []logbuf.Entry{
		{Time: testNow, Module: "CLOUD", Severity: 5, Mnemonic: "CLOUD_ESTABLISHED", Text: "Cloud connection established."},
	}}, nil
}

var testNow = time.Date(2026, 5, 29, 21, 33, 41, 0, time.UTC)

// fakeTerminal records output and plays scripted answers and keys.
type fakeTerminal struct {
	out     strings.Builder
	answers []string
	keys    []byte
	rows    int
}

func (t *fakeTerminal) Write(p []byte) (int, error) { return t.out.Write(p) }

func (t *fakeTerminal) ReadSecret(prompt string) (string, error) { return t.ReadLine(prompt) }

func (t *fakeTerminal) ReadLine(prompt string) (string, error) {
	t.out.WriteString(prompt)
	if len(t.answers) == 0 {
		return "", io.EOF
	}
	a := t.answers[0]
	t.answers = t.answers[1:]
	t.out.WriteString(a + "\n")
	return a, nil
}

func (t *fakeTerminal) ReadKey() (byte, error) {
	if len(t.keys) == 0 {
		return 0, io.EOF
	}
	k := t.keys[0]
	t.keys = t.keys[1:]
	return k, nil
}

func (t *fakeTerminal) Rows() int { return t.rows }

var admin = device.Identity{User: "admin", Role: config.RoleAdmin, Line: "VTY 0"}
var operator = device.Identity{User: "ops", Role: config.RoleOperator, Line: "VTY 1"}

// newTestSession is a session on a fresh fake device with a fixed clock.
func newTestSession(id device.Identity) (*Session, *fakeDevice) {
	d := newFakeDevice()
	s := NewSession(d, id)
	s.now = func() time.Time { return testNow }
	s.loc = time.UTC
	return s, d
}

// run executes lines in s and returns the output of the last one and
// whether it succeeded; earlier lines must succeed.
func run(t *testing.T, s *Session, lines ...string) (string, bool) {
	t.Helper()
	for i, line := range lines {
		term := &fakeTerminal{}
		ok := s.Execute(context.Background(), line, term)
		if i == len(lines)-1 {
			return term.out.String(), ok
		}
		if !ok {
			t.Fatalf("setup line %q failed:\n%s", line, term.out.String())
		}
	}
	return "", true
}

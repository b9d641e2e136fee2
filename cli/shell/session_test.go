package shell

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netdevd/netdevd/cli"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// memDevice is the smallest device.Device: a running configuration in memory.
type memDevice struct {
	mu  sync.Mutex
	cfg config.Config
}

func (d *memDevice) Running(context.Context) (config.Config, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Clone(), nil
}

func (d *memDevice) Update(_ context.Context, change func(*config.Config) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.cfg.Clone()
	if err := change(&c); err != nil {
		return err
	}
	d.cfg = c
	return nil
}

func (d *memDevice) Save(context.Context, string) error                 { return nil }
func (d *memDevice) FileExists(context.Context, string) (bool, error)   { return false, nil }
func (d *memDevice) SavedConfiguration(context.Context) (string, error) { return "", nil }
func (d *memDevice) Version(context.Context) (device.VersionInfo, error) {
	return device.VersionInfo{Software: "test", BootTime: time.Now()}, nil
}
func (d *memDevice) CloudStatus(context.Context) (device.CloudStatus, error) {
	return device.CloudStatus{}, nil
}
func (d *memDevice) ResetCloudTunnel(context.Context) error         { return nil }
func (d *memDevice) Unbind(context.Context, string) (string, error) { return "", nil }
func (d *memDevice) DHCPStatus(context.Context) (device.DHCPStatus, error) {
	return device.DHCPStatus{}, nil
}
func (d *memDevice) DNSHosts(context.Context) ([]device.DNSHost, error) { return nil, nil }
func (d *memDevice) Users(context.Context) ([]device.VTYSession, error) { return nil, nil }
func (d *memDevice) LogBuffer(context.Context) (logbuf.Snapshot, error) {
	return logbuf.Snapshot{}, nil
}

// The line-mode shell drives the real grammar: prompts, caret columns
// (prompt length + offset in the line as typed), `?`, Ctrl+Z, quit.
func TestLineWithGrammar(t *testing.T) {
	dev := &memDevice{cfg: config.Default()}
	s := cli.NewSession(dev, device.Identity{User: "admin", Role: config.RoleAdmin, Line: "VTY 0"})
	in := "system-view\n" +
		"sysname  R1\n" +
		"display  clound\n" +
		"\x1a" +
		"quit\n"
	var out bytes.Buffer
	if err := RunLine(context.Background(), s, strings.NewReader(in), &out, LineOptions{}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"System View: return to User View with Ctrl+Z.\n[" + config.DefaultSysname + "]\n[R1]\n",
		"[R1]\n" + strings.Repeat(" ", len("[R1]display  ")) + "^\n % Unrecognized command found at '^' position.\n",
		"[R1]\n<R1>\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if !s.Ended() {
		t.Error("quit did not end the session")
	}
	if bytes.IndexByte(out.Bytes(), 0x1b) >= 0 {
		t.Errorf("escape in output: %q", got)
	}
}

// The interactive shell with the real grammar: help, completion, carets.
func TestInteractiveWithGrammar(t *testing.T) {
	c := startInteractiveMode(t, "grammar")
	c.expect("<" + config.DefaultSysname + ">")
	// Tab cycles through the keywords in place (issue 17 item 6).
	c.send("d\t")
	c.expect("debugging ")
	c.send("\t")
	c.expect("dir ")
	c.send("\t")
	c.expect("display ")
	c.send("\x15")
	c.send("dis")
	c.send("\t")
	c.expect("display ")
	c.send("clound\r")
	c.expect("\n" + strings.Repeat(" ", len("<"+config.DefaultSysname+">display ")) + "^\n % Unrecognized command found at '^' position.\n")
	c.send("sys?")
	c.expect("system-view")
	c.expect("<" + config.DefaultSysname + ">sys")
	c.send("\r")
	c.expect("System View: return to User View with Ctrl+Z.\n")
	c.expect("[" + config.DefaultSysname + "]")
	c.send("\x1a")
	c.expect("<" + config.DefaultSysname + ">")
	c.send("quit\r")
	if err := c.wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

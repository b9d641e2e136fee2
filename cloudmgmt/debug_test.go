package cloudmgmt

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestDebugOutput: event debugging shows transitions with reasons, packet
// debugging every message; neither ever shows the token, an unbinding code,
// a password or the Authorization header; switched off, nothing comes.
func TestDebugOutput(t *testing.T) {
	var mu sync.Mutex
	var out []string
	on := map[string]bool{DebugEvent: true, DebugPacket: true}
	c := startCtrl(t, 0)
	d := newDev(t, func(o *Options) {
		o.Debug = func(kind, text string) { mu.Lock(); out = append(out, kind+": "+text); mu.Unlock() }
		o.DebugOn = func(kind string) bool { mu.Lock(); defer mu.Unlock(); return on[kind] }
		o.Exec = func(ctx context.Context, lines []string) (string, bool) { return "done\n", true }
	})
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
	d.waitState(t, "Established")
	d.mu.Lock()
	token := d.conn.sess.token
	d.mu.Unlock()
	if token == "" {
		t.Fatal("no token")
	}
	// the device is Established on reading the 101; the controller holds
	// the connection a moment later
	waitFor(t, "the controller holds the connection", func() bool { return c.connected("SN1") })
	ctx := context.Background()
	if _, err := c.Exec(ctx, "SN1", []string{"local-user x", "password simple Secr3tPW", "cloud-management unbinding-code CODE-123",
		"backup startup-configuration to sftp://u@192.0.2.9/c.cfg", "AnswerPW-99"}); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Unbind(ctx, "UNBIND-CODE-77"); err != nil || v != UnbindInvalid {
		t.Fatalf("unbind: %q %v", v, err)
	}
	snapshot := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(out, "\n")
	}
	waitFor(t, "the exec result frame", func() bool { return strings.Contains(snapshot(), "type=exec-result") })
	all := snapshot()
	for _, secret := range []string{token, "Secr3tPW", "CODE-123", "UNBIND-CODE-77", "AnswerPW-99", "Bearer", "Authorization"} {
		if strings.Contains(all, secret) {
			t.Errorf("debug output shows %q:\n%s", secret, all)
		}
	}
	for _, want := range []string{
		"event: Connection state changed from Resolving to Connecting.",
		"event: Connection state changed from Upgrading to Established.",
		"packet: Sent HTTP POST /cloud/v1/auth to cloud.test: mac=\"aa:bb:cc:dd:ee:ff\"",
		"packet: Received HTTP 200 for POST /cloud/v1/auth from cloud.test: ",
		"token=******",
		"packet: Sent WebSocket upgrade request for wss://",
		"packet: Sent frame on main connection: type=keepalive seq=",
		"packet: Received frame on main connection: type=exec id=",
		`lines=["local-user x","password simple ******","cloud-management unbinding-code ******","backup startup-configuration to sftp://u@192.0.2.9/c.cfg","******"]`,
		"packet: Sent frame on main connection: type=exec-result id=",
		"output=(5 bytes)",
		"packet: Sent HTTP POST /cloud/v1/unbind to cloud.test: code=****** serial=\"SN1\"",
		"packet: Received HTTP 403 for POST /cloud/v1/unbind from cloud.test: reason=\"code-invalid\" result=\"failure\"",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("debug output lacks %q:\n%s", want, all)
		}
	}

	// Off: a reconnection produces nothing.
	mu.Lock()
	on = map[string]bool{}
	n := len(out)
	mu.Unlock()
	d.Reset()
	d.waitState(t, "Established")
	mu.Lock()
	defer mu.Unlock()
	if len(out) != n {
		t.Errorf("debugging off, yet:\n%s", strings.Join(out[n:], "\n"))
	}
}

func TestDescribeJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"subconn-urls","urls":{"log":"wss://h:1/cloud/v1/sub/log?t=SECRET#x"}}`: `type=subconn-urls urls={"log":"wss://h:1/cloud/v1/sub/log"}`,
		`{"result":"success","main_url":"wss://u:p@h/x?token=abc"}`:                      `main_url="wss://h/x" result="success"`,
		`{"Access_Token":"x","nested":{"password":"p","n":1}}`:                           `Access_Token=****** nested={n=1 password=******}`,
		`not json`: `(8 bytes, not a JSON object)`,
	} {
		if got := describeJSON([]byte(in)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
}

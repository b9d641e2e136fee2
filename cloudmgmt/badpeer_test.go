package cloudmgmt

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// failing starts a device against c and waits for the first failure reason.
func failing(t *testing.T, c *ctrl, domain string) *testDev {
	t.Helper()
	d := newDev(t, nil)
	d.SetConfig(cloudCfg(domain, c.Port), nil, hosts("cloud.test", "wrong.test"))
	waitFor(t, "a failure", func() bool { return d.Status().FailureReason != "" })
	return d
}

func TestAttemptFailuresAndRecovery(t *testing.T) {
	cases := []struct {
		name     string
		faults   controller.Faults
		domain   string
		reason   string
		devState string
	}{
		{"auth 500", controller.Faults{RejectAuth: 500}, "cloud.test", "Authentication failed (Details:HTTP 500)", "Idle"},
		{"auth 403", controller.Faults{RejectAuth: 403}, "cloud.test", "Authentication failed (Details:injected)", "Request_failure"},
		{"register 500", controller.Faults{RejectRegister: 500}, "cloud.test", "Registration failed (Details:HTTP 500)", "Register_failure"},
		{"ws main url", controller.Faults{MainURLScheme: "ws"}, "cloud.test", "Registration failed (Details:ws:// URL refused, wss:// required)", "Register_failure"},
		{"upgrade refused", controller.Faults{RefuseUpgrade: true}, "cloud.test", "WebSocket upgrade failed (Details:HTTP 503)", "Request_success"},
		{"wrong certificate name", controller.Faults{}, "wrong.test", "TLS certificate not trusted (Details:", "Idle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := startCtrl(t, 0)
			c.SetFaults(tc.faults)
			d := failing(t, c, tc.domain)
			s := d.Status()
			if !strings.HasPrefix(s.FailureReason, tc.reason) || s.DeviceState != tc.devState {
				t.Fatalf("failure %q device %s", s.FailureReason, s.DeviceState)
			}
			w := d.waitWait(t)
			// fixed → recovers at the next pass
			c.SetFaults(controller.Faults{})
			if tc.domain != "cloud.test" {
				d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test", "wrong.test"))
			} else {
				d.clk.Advance(w)
			}
			d.waitState(t, "Established")
		})
	}
}

func TestSilentAcceptorTimesOut(t *testing.T) {
	c := startCtrl(t, 0)
	c.SetFaults(controller.Faults{SilentAccept: true})
	d := newDev(t, nil)
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
	d.settle(t, "Connecting", 1)
	d.quiesce(t)
	d.advance(t, 4*time.Second)
	if s := d.state(); s != "Connecting" {
		t.Fatal(s)
	}
	d.clk.Advance(time.Second)
	waitFor(t, "timeout", func() bool { return d.Status().FailureReason != "" })
	if s := d.Status(); s.FailureReason != "TLS handshake failed (Details:timed out)" {
		t.Fatal(s.FailureReason)
	}
	c.SetFaults(controller.Faults{})
	d.clk.Advance(d.waitWait(t))
	d.waitState(t, "Established")
}

func TestSerialUnknownBoundElsewhereUnbind(t *testing.T) {
	c := startCtrl(t, 0, "OTHER")
	d := failing(t, c, "cloud.test")
	if s := d.Status(); s.FailureReason != "Authentication failed (Details:serial-unknown)" || s.DeviceState != "Request_failure" {
		t.Fatalf("%q %s", s.FailureReason, s.DeviceState)
	}
	c.AddSerial("SN1", "s3cret")
	d.clk.Advance(d.waitWait(t))
	waitFor(t, "bound", func() bool { return d.Status().DeviceState == "Bound_elsewhere" })
	if s := d.Status(); s.FailureReason != "Authentication failed (Details:bound-elsewhere)" {
		t.Fatal(s.FailureReason)
	}
	d.waitWait(t)
	line, err := d.Unbind(context.Background(), "wrong")
	if err != nil || line != UnbindInvalid {
		t.Fatal(line, err)
	}
	line, err = d.Unbind(context.Background(), "s3cret")
	if err != nil || line != UnbindSucceeded {
		t.Fatal(line, err)
	}
	d.waitState(t, "Established") // §1 again at once, no waiting
	for _, e := range d.log.Snapshot().Entries {
		if strings.Contains(e.Text, "s3cret") {
			t.Fatal("code logged")
		}
	}
}

func TestBadFramesCloseAndRecover(t *testing.T) {
	cases := map[string]string{
		"malformed":     "protocol error (Details:malformed JSON object (close 1002))",
		"unknown-type":  "protocol error (Details:unknown type \"no-such-type\" (close 1002))",
		"missing-field": "protocol error (Details:keepalive-ack: missing field seq (close 1002))",
		"oversize":      "protocol error (Details:frame over 64 KiB (close 1009))",
		"binary":        "protocol error (Details:binary frame (close 1003))",
		"close":         "server closed connection (Details:close 1001 closed by operator)",
		"reregister":    "reregister requested (Details:by controller)",
	}
	for kind, want := range cases {
		t.Run(kind, func(t *testing.T) {
			c := startCtrl(t, 0)
			d := establish(t, c, nil, nil)
			if err := c.Inject("SN1", kind); err != nil {
				t.Fatal(err)
			}
			w := d.waitWait(t)
			if s := d.Status(); s.LastDownReason != want {
				t.Fatalf("down %q want %q", s.LastDownReason, want)
			}
			d.clk.Advance(w)
			d.waitState(t, "Established")
		})
	}
}

func TestExecAndTelemetry(t *testing.T) {
	c := startCtrl(t, 0)
	d := establish(t, c, func(o *Options) {
		o.Exec = func(ctx context.Context, lines []string) (string, bool) {
			if lines[0] == "big" {
				return strings.Repeat("é\x01", 100000), true
			}
			return "<dev>" + strings.Join(lines, "|") + "\n", lines[0] != "bad"
		}
		o.Telemetry = func() map[string]any { return map[string]any{"uptime": 42} }
		o.Sysname = func() string { return "edge1" }
	}, nil)
	waitFor(t, "the controller holds the connection", func() bool { return c.connected("SN1") })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := c.Exec(ctx, "SN1", []string{"display version", "quit"})
	if err != nil || !r.OK || r.Output != "<dev>display version|quit\n" {
		t.Fatal(r, err)
	}
	r, err = c.Exec(ctx, "SN1", []string{"bad"})
	if err != nil || r.OK {
		t.Fatal(r, err)
	}
	r, err = c.Exec(ctx, "SN1", []string{"big"})
	if err != nil || !r.OK || !strings.HasSuffix(r.Output, truncatedNote) || !utf8.ValidString(r.Output) {
		t.Fatal(len(r.Output), err)
	}
	if d.state() != "Established" {
		t.Fatal(d.Status().LastDownReason)
	}
	waitFor(t, "telemetry", func() bool { s, _ := c.Reports("SN1", "telemetry"); return s.Received >= 1 })
	_, reps := c.Reports("SN1", "telemetry")
	data := string(reps[0].Data)
	for _, want := range []string{`"sysname":"edge1"`, `"uptime":42`, `"serial":"SN1"`, `"server_domain":"cloud.test"`} {
		if !strings.Contains(data, want) {
			t.Fatalf("telemetry %s lacks %s", data, want)
		}
	}
	d.advance(t, 60*time.Second)
	waitFor(t, "second telemetry", func() bool { s, _ := c.Reports("SN1", "telemetry"); return s.Received >= 2 })
}

func TestReportBufferDropOldestAndResend(t *testing.T) {
	c := startCtrl(t, 0)
	d := newDev(t, func(o *Options) { o.BufferSize = 4 })
	for i := 1; i <= 10; i++ {
		d.Report("log", map[string]any{"n": i})
	}
	s := d.Status()
	if s.DroppedAfterLimit != 6 || s.TotalDropped != 6 || s.BufferFullCount != 1 {
		t.Fatalf("counters %d %d %d", s.DroppedAfterLimit, s.TotalDropped, s.BufferFullCount)
	}
	c.SetFaults(controller.Faults{DropReportAcks: true})
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
	d.waitState(t, "Established")
	waitFor(t, "4 log reports", func() bool { s, _ := c.Reports("SN1", "log"); return s.Received == 4 })
	_, reps := c.Reports("SN1", "log")
	if reps[0].Seq != 7 || reps[3].Seq != 10 {
		t.Fatalf("seqs %d..%d", reps[0].Seq, reps[3].Seq)
	}
	if d.PendingReports("log") != 4 {
		t.Fatal("acks were dropped, reports must stay")
	}
	// reconnect: unacknowledged reports are sent again, the controller de-dups
	c.SetFaults(controller.Faults{})
	c.CloseDevice("SN1")
	w := d.waitWait(t)
	if s := d.Status(); s.LastReportIncompleteReason == "" {
		t.Fatal("no incomplete reason")
	}
	// Queued while down, into a full buffer of 4: it pushes out seq 7, so
	// the resend carries 8, 9, 10 (duplicates) and 11.
	d.Report("log", map[string]any{"n": 11})
	d.clk.Advance(w)
	d.waitState(t, "Established")
	waitFor(t, "acked", func() bool { return d.PendingReports("log") == 0 })
	sum, reps := c.Reports("SN1", "log")
	if sum.Received != 5 || sum.Duplicates != 3 || reps[4].Seq != 11 {
		t.Fatalf("summary %+v", sum)
	}
	if s := d.Status(); s.DroppedAfterLimit != 7 {
		t.Fatalf("dropped after limit %d, want 7", s.DroppedAfterLimit)
	}
}

func TestUnknownOptionsDefaults(t *testing.T) {
	c := New(Options{})
	s := c.Status()
	if s.ConnState != "Idle" || s.DeviceState != "Idle" || s.ProcessState != "Idle" {
		t.Fatalf("%+v", s)
	}
	if got := serverList(goal{cloud: config.Cloud{ServerDomain: "a", ServerPort: 1,
		Backups: []config.Backup{{Domain: "b"}, {Domain: "a"}, {Domain: "c", Port: 3}}}, dhcpDomain: "d"}); len(got) != 4 ||
		got[0].Domain != "d" || got[1].Domain != "a" || got[2].Port != 1 || got[3].Port != 3 {
		t.Fatalf("%+v", got)
	}
}

func TestSubconnIndependentAndLogSource(t *testing.T) {
	c := startCtrl(t, 0)
	d := establish(t, c, func(o *Options) {
		ch := make(chan logbuf.Entry, 16)
		o.LogSource = ch
		ch <- logbuf.Entry{Module: "SHELL", Severity: 6, Mnemonic: "SHELL_LOGIN", Text: "admin logged in."}
		ch <- logbuf.Entry{Module: "X", Severity: 7, Mnemonic: "DEBUG", Text: "not sent"}
	}, nil)
	waitFor(t, "log report", func() bool {
		_, reps := c.Reports("SN1", "log")
		for _, r := range reps {
			if strings.Contains(string(r.Data), "SHELL_LOGIN") {
				return true
			}
		}
		return false
	})
	waitFor(t, "2 subconns", func() bool { return len(c.Devices()[0].Subconns) == 2 })
	sessions := c.Devices()[0].Sessions
	if err := c.Inject("SN1", "close-subs"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "subs down", func() bool { return len(c.Devices()[0].Subconns) == 0 })
	d.quiesce(t)
	if s := d.Status(); s.ConnState != "Established" || s.LastDownReason != "" || s.LastReportFailureReason == "" {
		t.Fatalf("%+v", s)
	}
	d.Report("log", map[string]any{"after": true})
	// both sub-connections back off 1.5 s (Rand 0.5 of [1,2] s): the
	// armed-timer count alone cannot tell (ping timer stopped, backoff armed)
	waitFor(t, "both sub-connection backoffs armed", func() bool { return d.countArmed(1500*time.Millisecond) == 2 })
	d.advance(t, 2*time.Second)
	waitFor(t, "subs back", func() bool { return len(c.Devices()[0].Subconns) == 2 })
	waitFor(t, "acked", func() bool { return d.PendingReports("log") == 0 })
	if c.Devices()[0].Sessions != sessions {
		t.Fatal("main connection was replaced")
	}
	_, reps := c.Reports("SN1", "log")
	for _, r := range reps {
		if strings.Contains(string(r.Data), "not sent") {
			t.Fatal("debug entry forwarded")
		}
	}
}

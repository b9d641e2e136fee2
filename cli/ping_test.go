package cli

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

var ctl = netip.MustParseAddr("198.51.100.10")

func reply(seq int, ms float64) device.PingReply {
	return device.PingReply{Seq: seq, From: ctl, Bytes: 56, TTL: 63, RTT: time.Duration(ms * float64(time.Millisecond))}
}

func TestPingOutput(t *testing.T) {
	s, d := newTestSession(admin)
	d.net.replies = []device.PingReply{reply(0, 1.5), reply(1, 2.5), {Seq: 2, Timeout: true}, reply(3, 2)}
	out, ok := run(t, s, "ping -c 4 198.51.100.10")
	want := "Ping 198.51.100.10 (198.51.100.10): 56 data bytes, press CTRL_C to break\n" +
		"56 bytes from 198.51.100.10: icmp_seq=0 ttl=63 time=1.500 ms\n" +
		"56 bytes from 198.51.100.10: icmp_seq=1 ttl=63 time=2.500 ms\n" +
		"Request time out\n" +
		"56 bytes from 198.51.100.10: icmp_seq=3 ttl=63 time=2.000 ms\n" +
		"\n--- Ping statistics for 198.51.100.10 ---\n" +
		"4 packet(s) transmitted, 3 packet(s) received, 25.0% packet loss\n" +
		"round-trip min/avg/max/std-dev = 1.500/2.000/2.500/0.408 ms\n"
	if !ok || out != want {
		t.Errorf("ok=%v\n%s\nwant:\n%s", ok, out, want)
	}
	req := d.net.pings[0]
	if req.Dest != ctl || req.Count != 4 || req.Size != 56 || req.Timeout != 2*time.Second || req.Interval != 200*time.Millisecond || req.Source.IsValid() {
		t.Errorf("request %+v", req)
	}
}

func TestPingAllLostAndDefaults(t *testing.T) {
	s, d := newTestSession(admin)
	for i := range 5 {
		d.net.replies = append(d.net.replies, device.PingReply{Seq: i, Timeout: true})
	}
	out, _ := run(t, s, "ping 198.51.100.10")
	if strings.Count(out, "Request time out\n") != 5 || !strings.HasSuffix(out,
		"5 packet(s) transmitted, 0 packet(s) received, 100.0% packet loss\n") || strings.Contains(out, "round-trip") {
		t.Errorf("all lost:\n%s", out)
	}
	if d.net.pings[0].Count != 5 {
		t.Errorf("default count %d", d.net.pings[0].Count)
	}
}

// Options in any order, each once; a host name goes through the device's
// resolver and both appear in the header.
func TestPingOptionsAndNames(t *testing.T) {
	s, d := newTestSession(admin)
	d.net.hosts = map[string]netip.Addr{"ctl.example.com": ctl}
	d.net.replies = []device.PingReply{{Seq: 0, From: ctl, Bytes: 100, TTL: 64, RTT: time.Millisecond}}
	out, ok := run(t, s, "ping -s 100 -t 500 -a 192.0.2.7 -c 1 CTL.example.com")
	if !ok || !strings.HasPrefix(out, "Ping CTL.example.com (198.51.100.10): 100 data bytes, press CTRL_C to break\n100 bytes from 198.51.100.10:") ||
		!strings.Contains(out, "--- Ping statistics for CTL.example.com ---") {
		t.Errorf("ok=%v\n%s", ok, out)
	}
	want := device.PingRequest{Dest: ctl, Source: netip.MustParseAddr("192.0.2.7"), Count: 1, Size: 100, Timeout: 500 * time.Millisecond, Interval: 200 * time.Millisecond}
	if d.net.pings[0] != want {
		t.Errorf("request %+v, want %+v", d.net.pings[0], want)
	}
	tests := []struct{ line, want string }{
		{"ping -c 1 -c 2 198.51.100.10", caret(9+10, unrecognized)},
		{"ping -c 0 198.51.100.10", caret(9+8, wrongParam)},
		{"ping -c 4294967296 198.51.100.10", caret(9+8, wrongParam)},
		{"ping -s 19 198.51.100.10", caret(9+8, wrongParam)},
		{"ping -s 8101 198.51.100.10", caret(9+8, wrongParam)},
		{"ping -t 65536 198.51.100.10", caret(9+8, wrongParam)},
		{"ping -a 0.0.0.0 198.51.100.10", caret(9+8, wrongParam)},
		{"ping -c 3", caret(9+9, incomplete)},
		{"ping 198.51.100.10 -c 3", caret(9+19, tooMany)},
		{"ping -x 1 198.51.100.10", caret(9+5, wrongParam)}, // not an option, not a host name
		{"ping no.such.name", " % Failed to resolve host name no.such.name.\n"},
		{"ping 224.0.0.1", caret(9+5, wrongParam)},
		{"tracert 255.255.255.255", caret(9+8, wrongParam)},
	}
	for _, tt := range tests {
		if out, ok := run(t, s, tt.line); ok || out != tt.want {
			t.Errorf("%q: ok=%v\n%q\nwant %q", tt.line, ok, out, tt.want)
		}
	}
	if len(d.net.pings) != 1 {
		t.Errorf("%d pings sent, want 1", len(d.net.pings))
	}
	wantHelp := "  -a             Specify the source IP address\n" +
		"  -s             Specify the payload length\n" +
		"  -t             Specify the wait time for each reply\n" +
		"  STRING<1-253>  IP address or hostname of the remote system\n"
	if h := s.Help(context.Background(), "ping -c 3 "); h != wantHelp {
		t.Errorf("help after -c 3:\n%s", h)
	}
	if h := s.Help(context.Background(), "ping -c "); h != "  INTEGER<1-4294967295>  Number of echo requests\n" {
		t.Errorf("help of -c:\n%s", h)
	}
}

// Ctrl+C in a terminal cancels the line's context: the replies so far and
// their statistics are printed.
func TestPingInterrupted(t *testing.T) {
	s, d := newTestSession(admin)
	d.net.replies = []device.PingReply{reply(0, 1), reply(1, 1), reply(2, 1)}
	d.net.stopAfter = 2
	ctx, cancel := context.WithCancel(context.Background())
	term := &fakeTerminal{}
	done := make(chan bool)
	go func() { done <- s.Execute(ctx, "ping -c 3 198.51.100.10", term) }()
	cancel()
	if !<-done {
		t.Errorf("interrupted ping failed:\n%s", term.out.String())
	}
	if out := term.out.String(); !strings.Contains(out, "2 packet(s) transmitted, 2 packet(s) received, 0.0% packet loss\n") {
		t.Errorf("statistics after Ctrl+C:\n%s", out)
	}
}

func TestTracertOutput(t *testing.T) {
	s, d := newTestSession(admin)
	gw, ms := netip.MustParseAddr("10.78.0.1"), time.Millisecond
	d.net.probes = []device.TracertProbe{
		{TTL: 1, Index: 0, From: gw, RTT: ms / 2}, {TTL: 1, Index: 1, From: gw, RTT: ms / 4}, {TTL: 1, Index: 2, From: gw, RTT: ms / 8},
		{TTL: 2, Index: 0, Timeout: true}, {TTL: 2, Index: 1, Timeout: true}, {TTL: 2, Index: 2, Timeout: true},
		{TTL: 3, Index: 0, Timeout: true}, {TTL: 3, Index: 1, From: ctl, RTT: 2 * ms}, {TTL: 3, Index: 2, From: ctl, RTT: 3 * ms, Last: true},
	}
	out, ok := run(t, s, "tracert 198.51.100.10")
	want := "traceroute to 198.51.100.10 (198.51.100.10), 30 hops at most, 40 bytes each packet, press CTRL_C to break\n" +
		" 1  10.78.0.1 (10.78.0.1)  0.500 ms  0.250 ms  0.125 ms\n" +
		" 2  * * *\n" +
		" 3  * 198.51.100.10 (198.51.100.10)  2.000 ms  3.000 ms\n"
	if !ok || out != want {
		t.Errorf("ok=%v\n%s\nwant:\n%s", ok, out, want)
	}
	want2 := device.TracertRequest{Dest: ctl, Probes: 3, Timeout: 5 * time.Second, FirstTTL: 1, MaxTTL: 30}
	if d.net.traces[0] != want2 {
		t.Errorf("request %+v", d.net.traces[0])
	}
	d.net.probes = []device.TracertProbe{{TTL: 1, Index: 0, From: gw, RTT: ms, Note: "!H", Last: true}}
	out, _ = run(t, s, "tracert -w 100 -q 1 198.51.100.10")
	if !strings.HasSuffix(out, " 1  10.78.0.1 (10.78.0.1)  1.000 ms !H\n") {
		t.Errorf("unreachable note:\n%s", out)
	}
	if r := d.net.traces[1]; r.Probes != 1 || r.Timeout != 100*time.Millisecond {
		t.Errorf("request %+v", r)
	}
}

// ping and tracert are in every view.
func TestPingInEveryView(t *testing.T) {
	for _, setup := range viewSetups {
		s, d := newTestSession(admin)
		d.net.replies = []device.PingReply{reply(0, 1)}
		run(t, s, append(setup, "display clock")...)
		if out, ok := run(t, s, "ping -c 1 198.51.100.10"); !ok || !strings.Contains(out, "1 packet(s) received") {
			t.Errorf("ping after %v: %v\n%s", setup, ok, out)
		}
		if _, ok := run(t, s, "tracert 198.51.100.10"); !ok {
			t.Errorf("tracert after %v failed", setup)
		}
	}
}

package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// ping and tracert, in every view (network-admin, as on Comware):
//
//	ping [ -a SOURCE-IP | -c COUNT | -s SIZE | -t TIMEOUT ] * HOST
//	tracert [ -q PACKETS | -w TIMEOUT ] * HOST
//
// The daemon sends the packets (device.Network Ping/Tracert) and streams
// each outcome; this file prints them as they come, in Comware 7's layout,
// straight to the terminal (no pager, no filter). The line ends when the
// count is done or ctx ends: Ctrl+C in the interactive shell cancels ctx
// (the console turns SIGINT into a cancelled command), and the statistics
// of what was sent so far are still printed. Batch runs (`netdevd exec`,
// SSH exec, the cloud's exec) are bounded by the count and the timeouts.

// Comware's defaults.
const (
	defaultPingCount    = 5
	defaultPingSize     = 56
	defaultPingTimeout  = 2000 * time.Millisecond
	defaultPingInterval = 200 * time.Millisecond
	defaultTraceProbes  = 3
	defaultTraceTimeout = 5000 * time.Millisecond
	defaultTraceMaxTTL  = 30
	traceProbeBytes     = 40 // IP + UDP headers + 12 bytes of data
)

var (
	pingHostValue    = text(1, 253, validPingHost)
	pingCountValue   = &valueSpec{label: "INTEGER<1-4294967295>", min: 1, max: 10, check: validCount}
	pingSizeValue    = intRange(20, 8100)
	pingTimeoutValue = intRange(0, 65535)
	tracePacketValue = intRange(1, 65535)
	traceWaitValue   = intRange(1, 65535)
)

// validCount is 1 to 4294967295 in plain digits.
func validCount(s string) bool {
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && n >= 1 && s[0] != '+'
}

// validPingHost: a unicast IPv4 address, or a host name that is not an
// address of another kind (224.0.0.1 is not a name to look up).
func validPingHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		_, ok := parseIPv4(s)
		return ok
	}
	return validHostname(s)
}

// option is one `-x VALUE` member of a command's option list.
func option(word, name string, spec *valueSpec, help, valueHelp string) *node {
	return &node{keyword: word, help: help, option: true, next: []*node{val(name, spec, valueHelp)}}
}

func pingCommand() *node {
	host := val("host", pingHostValue, "IP address or hostname of the remote system").does(runPing)
	list := kw("ping", "Ping function",
		option("-a", "source", ipv4Addr, "Specify the source IP address", "Source IP address"),
		option("-c", "count", pingCountValue, "Specify the number of echo requests", "Number of echo requests"),
		option("-s", "size", pingSizeValue, "Specify the payload length", "Payload length in bytes"),
		option("-t", "timeout", pingTimeoutValue, "Specify the wait time for each reply", "Wait time in milliseconds"),
		host)
	list.many = true
	return list
}

func tracertCommand() *node {
	host := val("host", pingHostValue, "IP address or hostname of the remote system").does(runTracert)
	list := kw("tracert", "Tracert function",
		option("-q", "probes", tracePacketValue, "Specify the number of probe packets sent each hop", "Number of probe packets"),
		option("-w", "wait", traceWaitValue, "Specify the timeout of the reply packet", "Timeout in milliseconds"),
		host)
	list.many = true
	return list
}

// errUnknownHost is printed when HOST does not resolve.
func errUnknownHost(host string) error {
	return failure("Failed to resolve host name " + host + ".")
}

// resolveHost is HOST as an address: a literal, or through the device's
// resolver (`ip host`, `dns server`, DHCP option 6).
func (e *invocation) resolveHost(host string) (netip.Addr, error) {
	if a, ok := parseIPv4(host); ok {
		return a, nil
	}
	a, err := e.s.dev.ResolveHost(e.ctx, host)
	if errors.Is(err, device.ErrPermission) {
		return netip.Addr{}, err
	}
	if err != nil || !a.Is4() {
		return netip.Addr{}, errUnknownHost(host)
	}
	return a, nil
}

func pingRequest(e *invocation, dest netip.Addr) device.PingRequest {
	req := device.PingRequest{Dest: dest, Count: defaultPingCount, Size: defaultPingSize,
		Timeout: defaultPingTimeout, Interval: defaultPingInterval}
	if e.has("source") {
		req.Source = e.addr("source")
	}
	if e.has("count") {
		n, _ := strconv.ParseUint(e.arg("count"), 10, 32)
		req.Count = int(n)
	}
	if e.has("size") {
		req.Size = e.number("size")
	}
	if e.has("timeout") {
		req.Timeout = time.Duration(e.number("timeout")) * time.Millisecond
	}
	return req
}

func runPing(e *invocation) error {
	host := e.arg("host")
	dest, err := e.resolveHost(host)
	if err != nil {
		return err
	}
	req := pingRequest(e, dest)
	replies, err := e.s.dev.Ping(e.ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.term, "Ping %s (%s): %d data bytes, press CTRL_C to break\n", host, dest, req.Size)
	var st pingStats
	for r := range replies {
		io.WriteString(e.term, pingLine(r))
		st.add(r)
	}
	io.WriteString(e.term, st.render(host))
	return nil
}

// pingLine is one request's line: the reply, or `Request time out`.
func pingLine(r device.PingReply) string {
	if r.Timeout || r.Error != "" {
		return "Request time out\n"
	}
	return fmt.Sprintf("%d bytes from %s: icmp_seq=%d ttl=%d time=%s ms\n", r.Bytes, r.From, r.Seq, r.TTL, millis(r.RTT))
}

// millis is a duration in milliseconds with three decimals.
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// pingStats sums up the replies of one ping.
type pingStats struct {
	sent, received int
	rtts           []time.Duration
}

func (s *pingStats) add(r device.PingReply) {
	s.sent++
	if !r.Timeout && r.Error == "" {
		s.received++
		s.rtts = append(s.rtts, r.RTT)
	}
}

// render is Comware's statistics block; the round-trip line only when
// something came back. std-dev is the population standard deviation.
func (s *pingStats) render(host string) string {
	loss := 0.0
	if s.sent > 0 {
		loss = float64(s.sent-s.received) * 100 / float64(s.sent)
	}
	out := fmt.Sprintf("\n--- Ping statistics for %s ---\n%d packet(s) transmitted, %d packet(s) received, %.1f%% packet loss\n",
		host, s.sent, s.received, loss)
	if len(s.rtts) == 0 {
		return out
	}
	lo, hi, sum, sq := s.rtts[0], s.rtts[0], 0.0, 0.0
	for _, d := range s.rtts {
		lo, hi = min(lo, d), max(hi, d)
		ms := float64(d) / float64(time.Millisecond)
		sum += ms
		sq += ms * ms
	}
	n := float64(len(s.rtts))
	avg := sum / n
	dev := math.Sqrt(math.Max(0, sq/n-avg*avg))
	return out + fmt.Sprintf("round-trip min/avg/max/std-dev = %s/%.3f/%s/%.3f ms\n", millis(lo), avg, millis(hi), dev)
}

func runTracert(e *invocation) error {
	host := e.arg("host")
	dest, err := e.resolveHost(host)
	if err != nil {
		return err
	}
	req := device.TracertRequest{Dest: dest, Probes: defaultTraceProbes, Timeout: defaultTraceTimeout,
		FirstTTL: 1, MaxTTL: defaultTraceMaxTTL}
	if e.has("probes") {
		req.Probes = e.number("probes")
	}
	if e.has("wait") {
		req.Timeout = time.Duration(e.number("wait")) * time.Millisecond
	}
	probes, err := e.s.dev.Tracert(e.ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.term, "traceroute to %s (%s), %d hops at most, %d bytes each packet, press CTRL_C to break\n",
		host, dest, req.MaxTTL, traceProbeBytes)
	var line traceLine
	for p := range probes {
		io.WriteString(e.term, line.add(p, req.Probes))
	}
	io.WriteString(e.term, line.end())
	return nil
}

// traceLine prints one hop's line as its probes come, traceroute's way:
// ` 1  10.0.0.1 (10.0.0.1)  0.512 ms  0.420 ms  0.398 ms`, ` 2  * * *`; a
// probe answered by another address than the one before names it again.
type traceLine struct {
	open bool       // a hop's line is started and not ended
	last netip.Addr // who answered the hop's previous probe
}

func (l *traceLine) add(p device.TracertProbe, probes int) string {
	out := ""
	if p.Index == 0 {
		out = l.end() + fmt.Sprintf("%2d ", p.TTL)
		l.open, l.last = true, netip.Addr{}
	}
	if p.Timeout {
		out += " *"
	} else {
		if p.From != l.last {
			out += fmt.Sprintf(" %s (%s)", p.From, p.From)
			l.last = p.From
		}
		out += "  " + millis(p.RTT) + " ms"
		if p.Note != "" {
			out += " " + p.Note
		}
	}
	if p.Index == probes-1 {
		out += l.end()
	}
	return out
}

// end finishes an open line.
func (l *traceLine) end() string {
	if !l.open {
		return ""
	}
	l.open = false
	return "\n"
}

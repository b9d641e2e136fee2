// Package cloudmgmt is the device side of cloud protocol v1: the effective
// server list, the connection state machine, the protocol client and the
// per-service report buffers. See README.md and docs/protocol.md.
package cloudmgmt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/netdevd/netdevd/internal/clock"
	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/version"
)

// Options configures a Client. Zero values take the documented defaults.
type Options struct {
	Serial, Model, MAC, Software string
	Sysname                      func() string
	// RootCAs verifies the controller (system roots + --ca-file, built by
	// the daemon); nil = system roots.
	RootCAs *x509.CertPool
	// InsecureSkipVerify turns certificate verification off: an explicit
	// operator choice, shown by display cloud-management state.
	InsecureSkipVerify bool
	Clock              clock.Clock    // default clock.Real{}
	Rand               func() float64 // uniform in [0,1); default math/rand/v2
	Log                *logbuf.Buffer // CLOUD/5/… transitions; may be nil
	Zap                *zap.Logger    // may be nil
	// Exec runs CLI lines as one network-admin session starting in user
	// view; nil answers every exec with ok=false.
	Exec func(ctx context.Context, lines []string) (output string, ok bool)
	// Telemetry returns extra telemetry data (uptime, Vlan-interface1
	// address…), merged into each telemetry report.
	Telemetry func() map[string]any
	// LogSource, if set, is drained by Run: every entry with severity ≤
	// informational becomes one `log` report. The daemon passes a
	// logbuf.Buffer.Subscribe channel. Report("log", …) works as well.
	LogSource <-chan logbuf.Entry
	// Debug receives debugging output (`debugging cloud-management`):
	// kind is DebugEvent (state transitions with reasons) or DebugPacket
	// (each message sent or received, secrets masked; debug.go). DebugOn,
	// if set, says whether kind is on, so the text is built only when it
	// is. Both may be nil (no debugging).
	Debug   func(kind, text string)
	DebugOn func(kind string) bool
	// LabPlainWS is the explicit lab mode: the base URL is http:// and a
	// ws:// main URL is accepted. Never the default.
	LabPlainWS bool
	ResolvConf string // default /etc/resolv.conf

	// Tunables; defaults in parentheses. Tests shorten them.
	StepTimeout       time.Duration // each HTTP/TLS/upgrade step, on Clock (10s)
	DNSTimeout        time.Duration // per DNS server, wall clock (2s)
	DNSPort           int           // port of DNS servers (53); tests only
	TelemetryInterval time.Duration // (60s)
	BufferSize        int           // reports per service (1024)
	BackoffBase       time.Duration // m of the backoff formula (5s)
	BackoffMax        time.Duration // the wait stays under this (300s)
	ExecTimeout       time.Duration // each exec, on Clock (60s, DefaultExecTimeout)
	UserAgent         string        // default netdevd/<version>
}

// Client is the cloud connection of one device. All methods are safe for
// concurrent use.
type Client struct {
	o    Options
	clk  clock.Clock
	zl   *zap.Logger
	rand func() float64

	mu     sync.Mutex
	goal   goal
	status device.CloudStatus
	conn   *connInfo // the established connection, nil when none
	bufs   map[string]*reportBuf
	randMu sync.Mutex
	pend   pending
	// nextAttempt is when Waiting ends (tests read it).
	nextAttempt  time.Time
	lastWaitSeen time.Time // tests only
	wake         chan struct{}
	tlsSessions  tls.ClientSessionCache
	dns          *dnsCache                 // answers kept for their TTL (resolve.go)
	execQ        atomic.Pointer[execQueue] // the established main connection's (tests)
}

// goal is what the configuration asks for.
type goal struct {
	cloud      config.Cloud
	dns        []netip.Addr
	hosts      []config.IPHost
	dhcpDomain string
	dhcpDNS    []netip.Addr
}

// pending is what happened since the state machine last looked; it is
// merged under mu so that no signal is ever lost or blocks the caller.
type pending struct {
	config  bool // feature configuration, DNS or DHCP changed
	reset   bool // reset cloud-management tunnel
	unbound bool // unbinding succeeded
}

// New returns a client; nothing happens until Run.
func New(o Options) *Client {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Zap == nil {
		o.Zap = zap.NewNop()
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Sysname == nil {
		o.Sysname = func() string { return config.DefaultSysname }
	}
	if o.ResolvConf == "" {
		o.ResolvConf = "/etc/resolv.conf"
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 10 * time.Second
	}
	if o.DNSTimeout <= 0 {
		o.DNSTimeout = 2 * time.Second
	}
	if o.DNSPort <= 0 {
		o.DNSPort = 53
	}
	if o.TelemetryInterval <= 0 {
		o.TelemetryInterval = 60 * time.Second
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 1024
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 300 * time.Second
	}
	if o.ExecTimeout <= 0 {
		o.ExecTimeout = DefaultExecTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "netdevd/" + version.Version
	}
	if o.Model == "" {
		o.Model = version.Model
	}
	if o.Software == "" {
		o.Software = version.Version
	}
	c := &Client{
		o:    o,
		clk:  o.Clock,
		zl:   o.Zap.Named("cloud"),
		wake: make(chan struct{}, 1),
		// A few servers (primary and backups) with a ticket or two each.
		tlsSessions: tls.NewLRUClientSessionCache(16),
		dns:         newDNSCache(),
		bufs:        map[string]*reportBuf{},
		goal: goal{cloud: config.Cloud{ServerPort: config.DefaultCloudPort,
			Keepalive: config.DefaultKeepalive, Ping: config.DefaultPing}},
	}
	c.rand = func() float64 {
		c.randMu.Lock()
		defer c.randMu.Unlock()
		return o.Rand()
	}
	c.status = device.CloudStatus{ConnState: StateIdle.String(), DeviceState: DevIdle, ProcessState: ProcIdle,
		InsecureTLS: o.InsecureSkipVerify}
	for _, s := range services {
		c.bufs[s] = newReportBuf(s, o.BufferSize)
	}
	return c
}

// SetConfig sets the goal from the running configuration. It is cheap to call
// on every configuration change: nothing happens unless the cloud settings,
// the DNS servers or the ip host table changed.
func (c *Client) SetConfig(cloud config.Cloud, dnsServers []netip.Addr, hosts []config.IPHost) {
	cloud.Backups = slices.Clone(cloud.Backups)
	c.mu.Lock()
	g := c.goal
	same := g.cloud.ServerDomain == cloud.ServerDomain && g.cloud.ServerPort == cloud.ServerPort &&
		slices.Equal(g.cloud.Backups, cloud.Backups) && g.cloud.Keepalive == cloud.Keepalive &&
		g.cloud.Ping == cloud.Ping && slices.Equal(g.dns, dnsServers) && slices.Equal(g.hosts, hosts)
	c.goal.cloud = cloud
	c.goal.dns = slices.Clone(dnsServers)
	c.goal.hosts = slices.Clone(hosts)
	c.mu.Unlock()
	if !same {
		c.signal(func(p *pending) { p.config = true })
	}
}

// SetDHCP sets the DHCP-learned option 253 domain ("" = none) and option 6
// DNS servers.
func (c *Client) SetDHCP(domain string, dnsServers []netip.Addr) {
	c.mu.Lock()
	// a different spelling of the same name is not a new option 253 value
	domainChanged := !sameDomain(c.goal.dhcpDomain, domain)
	dnsChanged := !slices.Equal(c.goal.dhcpDNS, dnsServers)
	c.goal.dhcpDomain = domain
	c.goal.dhcpDNS = slices.Clone(dnsServers)
	c.mu.Unlock()
	if domainChanged || dnsChanged {
		c.signal(func(p *pending) { p.config = true })
	}
}

// Reset drops the connection and starts again from the top of the list
// (reset cloud-management tunnel; down reason `reset by user`).
func (c *Client) Reset() { c.signal(func(p *pending) { p.reset = true }) }

// signal records an event and wakes the state machine.
func (c *Client) signal(f func(p *pending)) {
	c.mu.Lock()
	f(&c.pend)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// takePending returns and clears what happened.
func (c *Client) takePending() pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pend
	c.pend = pending{}
	return p
}

// Status returns a snapshot for display cloud-management state.
func (c *Client) Status() device.CloudStatus {
	c.mu.Lock()
	s := c.status
	c.mu.Unlock()
	// in a fixed order: of two buffers with news at the same instant,
	// the first service's is shown
	for _, svc := range services {
		c.bufs[svc].addCounters(&s)
	}
	s.Now = c.clk.Now()
	return s
}

func (c *Client) setStatus(f func(s *device.CloudStatus)) {
	c.mu.Lock()
	f(&c.status)
	c.mu.Unlock()
}

func (c *Client) snapshotGoal() goal {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.goal
	g.cloud.Backups = slices.Clone(g.cloud.Backups)
	g.dns = slices.Clone(g.dns)
	g.hosts = slices.Clone(g.hosts)
	g.dhcpDNS = slices.Clone(g.dhcpDNS)
	return g
}

// logEvent writes one CLOUD/5 line to the log buffer (and zap through it).
func (c *Client) logEvent(mnemonic, text string) {
	if c.o.Log != nil {
		c.o.Log.Log("CLOUD", logbuf.Notification, mnemonic, text)
	} else {
		c.zl.Info(text, zap.String("mnemonic", mnemonic))
	}
}

// randBetween returns a uniform duration in [lo, hi].
func (c *Client) randBetween(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rand()*float64(hi-lo))
}

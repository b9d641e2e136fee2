package cloudmgmt

import (
	"regexp"
	"testing"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
	"github.com/netdevd/netdevd/internal/config"
)

// TestIncompleteOnlyWhileWaitingOrDropped: Last report incomplete reason
// tells of reports actually dropped or still waiting for an
// acknowledgement, never of reports that were sent again and acknowledged
// (issue 11: after a planned domain change it said "3 log reports not
// acknowledged (Details:context canceled)" of reports delivered since).
func TestIncompleteOnlyWhileWaitingOrDropped(t *testing.T) {
	c := startCtrl(t, 0)
	c.SetFaults(controller.Faults{DropReportAcks: true})
	d := establish(t, c, func(o *Options) { o.BufferSize = 8 }, nil)
	h := hosts("cloud.test", "manual.test")
	for i := 1; i <= 3; i++ {
		d.Report("log", map[string]any{"n": i})
	}
	waitFor(t, "3 log reports at the controller", func() bool { s, _ := c.Reports("SN1", "log"); return s.Received == 3 })
	if s := d.Status(); s.LastReportIncompleteReason != "" {
		t.Fatalf("incomplete while connected: %q", s.LastReportIncompleteReason)
	}

	// Planned domain change while the acks are lost: the reports are still
	// waiting on the new connection, and the state says so.
	changeDomain := func(domain string) {
		t.Helper()
		cc := cloudCfg(domain, c.Port)
		d.SetConfig(cc, nil, h)
		waitFor(t, "on "+domain, func() bool {
			s := d.Status()
			return s.ServerDomain == domain && s.ConnState == "Established" && c.connected("SN1")
		})
	}
	changeDomain("manual.test")
	waiting := regexp.MustCompile(`^[0-9]+ (log|telemetry) reports not acknowledged yet \(Details:main connection closed\)$`)
	s := d.Status()
	if !waiting.MatchString(s.LastReportIncompleteReason) || s.LastReportIncompleteAt.IsZero() {
		t.Fatalf("reports still waiting: incomplete %q at %v", s.LastReportIncompleteReason, s.LastReportIncompleteAt)
	}

	// Acks flow again; another planned change: everything is sent again and
	// acknowledged, so nothing was incomplete.
	c.SetFaults(controller.Faults{})
	changeDomain("cloud.test")
	waitFor(t, "every report acknowledged", func() bool {
		return d.PendingReports("log") == 0 && d.PendingReports("telemetry") == 0
	})
	if s := d.Status(); s.LastReportIncompleteReason != "" || !s.LastReportIncompleteAt.IsZero() {
		t.Fatalf("delivered reports still reported incomplete: %q", s.LastReportIncompleteReason)
	}

	// Reports actually dropped: down (no domain) with a full buffer.
	c.SetFaults(controller.Faults{DropReportAcks: true})
	d.Report("log", map[string]any{"n": 4})
	waitFor(t, "report 4 at the controller", func() bool { s, _ := c.Reports("SN1", "log"); return s.Received == 4 })
	d.SetConfig(config.Cloud{ServerPort: c.Port}, nil, h)
	d.waitState(t, "Idle")
	if s := d.Status(); !waiting.MatchString(s.LastReportIncompleteReason) {
		t.Fatalf("report 4 waits: incomplete %q", s.LastReportIncompleteReason)
	}
	for i := 5; i <= 13; i++ { // 9 more into a buffer of 8 that holds report 4: 2 dropped
		d.Report("log", map[string]any{"n": i})
	}
	if s := d.Status(); s.LastReportIncompleteReason != "2 log reports dropped (Details:buffer of 8 reports full)" {
		t.Fatalf("after drops: %q", s.LastReportIncompleteReason)
	}
	// a drop is lost for good: acknowledging the rest does not undo it
	c.SetFaults(controller.Faults{})
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, h)
	waitFor(t, "every report acknowledged", func() bool { return d.state() == "Established" && d.PendingReports("log") == 0 })
	if s := d.Status(); s.LastReportIncompleteReason != "2 log reports dropped (Details:buffer of 8 reports full)" {
		t.Fatalf("after delivery: %q", s.LastReportIncompleteReason)
	}
}

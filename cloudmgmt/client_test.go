package cloudmgmt

import (
	"testing"
	"time"
)

func TestHappyPath(t *testing.T) {
	c := startCtrl(t, 0)
	d := newDev(t, nil)
	start := time.Now()
	d.SetConfig(cloudCfg("cloud.test", c.Port), nil, hosts("cloud.test"))
	d.waitState(t, "Established")
	t.Logf("config → Established in %v", time.Since(start))
	waitFor(t, "controller sees device", func() bool { return c.connected("SN1") })
	waitFor(t, "telemetry report", func() bool {
		sum, _ := c.Reports("SN1", "telemetry")
		return sum.Received >= 1
	})
	waitFor(t, "acked", func() bool { return d.PendingReports("telemetry") == 0 })
	s := d.Status()
	if s.DeviceState != "Request_success" || s.ServerDomain != "cloud.test" || s.ServerAddress != "127.0.0.1" ||
		s.Mode != "Https" || s.ServerPort != c.Port || s.FailureReason != "" {
		t.Fatalf("status %+v", s)
	}
	if s.ConnState != "Established" {
		t.Fatalf("state %q", s.ConnState)
	}
	found := false
	for _, e := range d.log.Snapshot().Entries {
		if e.Mnemonic == "CLOUD_ESTABLISHED" && e.Text == "Cloud connection to cloud.test established." {
			found = true
		}
	}
	if !found {
		t.Fatal("no CLOUD_ESTABLISHED log")
	}
}

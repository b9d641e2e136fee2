package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/netdevd/netdevd/cloudmgmt/controller"
)

// benchIdle: the real `netdevd run`, joined to an embedded controller (cloud
// Established with both sub-connections, SSH listening), left alone for
// --idle: RSS sampled every second, CPU time over the whole window.
func benchIdle(ctx context.Context, c *benchConfig) ([]Row, error) {
	dir, err := os.MkdirTemp("", "netdevd-bench-idle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const serial = "BENCHIDLE00001"
	ctrl, d, err := joinedDevice(ctx, c, dir, serial)
	if err != nil {
		return nil, err
	}
	defer ctrl.stop()
	defer d.p.kill()
	time.Sleep(time.Second) // let the start-up work finish
	pid := d.p.pid()
	cpu0, err := cpuTime(pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var rss []float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(t0) < c.idle {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if err := d.p.alive(); err != nil {
			return nil, err
		}
		kb, err := statusKB(pid, "VmRSS")
		if err != nil {
			return nil, err
		}
		rss = append(rss, float64(kb)/1024)
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return nil, err
	}
	anon, err1 := statusKB(pid, "RssAnon")
	file, err2 := statusKB(pid, "RssFile")
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("reading RssAnon/RssFile: %v %v", err1, err2)
	}
	window := time.Since(t0)
	if di, _ := ctrl.device(serial); !di.Connected {
		return nil, fmt.Errorf("the idle device lost its cloud connection during the window")
	}
	if err := d.p.stop(10 * time.Second); err != nil {
		return nil, err
	}
	cpuPct := 100 * (cpu1 - cpu0).Seconds() / window.Seconds()
	return []Row{
		stat(fmt.Sprintf("idle daemon RSS over %v (cloud Established, SSH up)", c.idle.Round(time.Second)), "MB", rss).
			target("≤ 25 MB", 25, false).note(fmt.Sprintf("VmRSS sampled each second; runs = samples; at the end %.1f MB anonymous + %.1f MB file-backed (binary text)",
			float64(anon)/1024, float64(file)/1024)),
		stat(fmt.Sprintf("idle daemon CPU over %v", c.idle.Round(time.Second)), "% of a core", []float64{cpuPct}).
			note(fmt.Sprintf("%.0f ms user+system in %.1f s (1 window)", ms(cpu1-cpu0), window.Seconds())),
	}, nil
}

// joinedDevice starts an embedded controller and the real `netdevd run`
// (startDevice), configures the cloud connection through `netdevd exec`,
// and waits until it is Established with both sub-connections. The caller
// stops both.
func joinedDevice(ctx context.Context, c *benchConfig, dir, serial string) (*embedded, *device, error) {
	tlsDir := filepath.Join(dir, "tls")
	ctrl, err := startEmbedded(tlsDir, []string{benchDomain, "127.0.0.1"}, serial)
	if err != nil {
		return nil, nil, err
	}
	d, err := startDevice(c, dir, "--serial", serial, "--ca-file", filepath.Join(tlsDir, controller.CAFile))
	if err == nil {
		_, err = netdevdExec(c.netdevdBin, d.dir, "system-view", "ip host "+benchDomain+" 127.0.0.1",
			"cloud-management server port "+strconv.Itoa(ctrl.port),
			"cloud-management server domain "+benchDomain)
	}
	if err == nil {
		err = waitCond(ctx, 15*time.Second, "device Established with sub-connections", func() bool {
			di, _ := ctrl.device(serial)
			return d.p.alive() == nil && di.Connected && len(di.Subconns) == 2
		})
		if e := d.p.alive(); e != nil {
			err = e
		}
	}
	if err != nil {
		if d != nil {
			d.p.kill()
		}
		ctrl.stop()
		return nil, nil, err
	}
	return ctrl, d, nil
}

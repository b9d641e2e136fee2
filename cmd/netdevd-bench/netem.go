package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// netemMissing returns why tc netem cannot be used here ("" = it can): it
// tries a netem qdisc on the loopback of a scratch network namespace.
func netemMissing() string {
	if _, err := exec.LookPath("tc"); err != nil {
		return "tc not installed"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "ip not installed"
	}
	const ns = "netdevd-bench-netem"
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return "cannot make a network namespace: " + strings.TrimSpace(string(out))
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	out, err := exec.Command("tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").CombinedOutput()
	if err != nil {
		why := strings.TrimSpace(string(out))
		if _, e := exec.LookPath("modprobe"); e != nil {
			why += "; modprobe not installed"
		} else if o, e := exec.Command("modprobe", "sch_netem").CombinedOutput(); e != nil {
			why += "; modprobe sch_netem: " + strings.TrimSpace(string(o))
		}
		return fmt.Sprintf("netem missing (tc qdisc add … netem: %s)", why)
	}
	return ""
}

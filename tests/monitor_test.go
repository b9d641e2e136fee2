package tests

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// monitorLine matches a live log line of `save monN.cfg` and its timestamp.
var monitorLine = regexp.MustCompile(`%([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d):(\d{3}) (\d{4}) netdevd CFGMAN/5/CFGMAN_CFGCHANGED: admin saved the running configuration to flash:/mon(\d+)\.cfg\.`)

// TestTerminalMonitorOverSSH: with `terminal monitor` on, a log line caused
// by another session appears on the first session's terminal (line mode:
// the line on its own, then the prompt again), and what was typed but not
// entered there survives and runs on Enter. The latency from the log
// entry's own timestamp to its arrival at the SSH client is measured and
// reported; the test asserts only that each line arrives within 2 s.
func TestTerminalMonitorOverSSH(t *testing.T) {
	d := startSSHDevice(t)
	a := openPTYShell(t, dialSSH(t, d.sshAddr, "admin", adminPassword))
	a.waitOutput("<netdevd>", 5*time.Second)
	fmt.Fprint(a.in, "terminal monitor\r")
	a.waitOutput("The current terminal is enabled to display logs.\r\n<netdevd>", 2*time.Second)
	// Half a command, not entered: the shell holds it in its line.
	fmt.Fprint(a.in, "display ver")
	a.waitOutput("<netdevd>display ver", 2*time.Second)

	b := dialSSH(t, d.sshAddr, "admin", adminPassword)
	const rounds = 20
	var lat []time.Duration
	for i := 1; i <= rounds; i++ {
		if out, code := sshExec(t, b, fmt.Sprintf("save mon%d.cfg", i)); code != 0 {
			t.Fatalf("save: %d %s", code, out)
		}
		want := fmt.Sprintf("flash:/mon%d.cfg.", i)
		deadline := time.Now().Add(2 * time.Second)
		for !strings.Contains(a.text(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: log line not shown within 2 s; output:\n%q", i, a.text())
			}
			time.Sleep(time.Millisecond)
		}
		arrived := time.Now()
		for _, m := range monitorLine.FindAllStringSubmatch(a.text(), -1) {
			if m[4] != fmt.Sprint(i) {
				continue
			}
			at, err := time.ParseInLocation("Jan _2 15:04:05 2006", m[1]+" "+m[3], time.Local)
			if err != nil {
				t.Fatalf("timestamp %q: %v", m[0], err)
			}
			ms, _ := strconv.Atoi(m[2])
			lat = append(lat, arrived.Sub(at.Add(time.Duration(ms)*time.Millisecond)))
		}
	}
	if len(lat) != rounds {
		t.Fatalf("%d of %d lines parsed; output:\n%q", len(lat), rounds, a.text())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("terminal monitor latency (log entry → SSH client), %d rounds: min %v, median %v, p95 %v, max %v",
		rounds, lat[0], lat[rounds/2], lat[rounds*95/100], lat[rounds-1])

	// Each line is on its own line, followed by the prompt again.
	if !strings.Contains(a.text(), "flash:/mon1.cfg.\r\n<netdevd>") {
		t.Errorf("log line not followed by the prompt:\n%q", a.text())
	}
	// The half-typed line is still there: Enter runs `display version`.
	fmt.Fprint(a.in, "sion\r")
	a.waitOutput("Comware Software, Version", 2*time.Second)
	after := a.text()[strings.Index(a.text(), "<netdevd>"):]
	if strings.ContainsRune(after, 0x1b) {
		t.Errorf("escape sequence in line-mode output: %q", after)
	}

	// undo terminal monitor: nothing more arrives.
	fmt.Fprint(a.in, "undo terminal monitor\r")
	a.waitOutput("The current terminal is disabled to display logs.\r\n<netdevd>", 2*time.Second)
	sshExec(t, b, "save mon99.cfg")
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(a.text(), "mon99.cfg") {
		t.Errorf("log line shown after undo terminal monitor")
	}
	fmt.Fprint(a.in, "quit\r")
}

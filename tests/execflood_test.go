package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// clockAnswer is one `display clock` answer followed by the prompt.
var clockAnswer = regexp.MustCompile(`\d\d:\d\d:\d\d \S+ \w{3} \d\d/\d\d/\d{4}\r\n<netdevd>`)

// floodSim is a cloudsim process for one device.
type floodSim struct {
	port, admin int
	tlsDir      string
	out         *syncBuf
}

func startFloodSim(t *testing.T, serial, domain string) *floodSim {
	t.Helper()
	s := &floodSim{port: freePort(t), admin: freePort(t), tlsDir: filepath.Join(t.TempDir(), "tls"), out: &syncBuf{}}
	cmd := exec.Command(bin("cloudsim"), "run", "--listen", fmt.Sprintf("127.0.0.1:%d", s.port),
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", s.admin), "--serial", serial, "--domain", domain,
		"--tls-dir", s.tlsDir, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 10*time.Second, "cloudsim listening", func() bool { return strings.Contains(s.out.String(), "cloudsim listening") })
	return s
}

// cli runs a cloudsim admin command.
func (s *floodSim) cli(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, bin("cloudsim"), append([]string{args[0], "--admin", fmt.Sprintf("127.0.0.1:%d", s.admin)}, args[1:]...)...)
}

type simDevice struct {
	Serial    string
	Connected bool
	Flood     *struct{ Count, Answered int }
}

// device is the admin endpoint's view of serial (GET /devices).
func (s *floodSim) device(t *testing.T, serial string) simDevice {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/devices", s.admin))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var devs []simDevice
	if err := json.NewDecoder(resp.Body).Decode(&devs); err != nil {
		t.Fatalf("GET /devices: %v", err)
	}
	for _, d := range devs {
		if d.Serial == serial {
			return d
		}
	}
	return simDevice{}
}

// TestExecFloodAnsweredInOrder: cloudsim floods a real netdevd with 2,000
// execs at once (the bench's 20,000 scaled down); every one is answered, in
// order, and an SSH session's `display clock` answers while the flood runs.
// A line waiting for input gets what `netdevd exec` gives a script.
func TestExecFloodAnsweredInOrder(t *testing.T) {
	const serial, domain, count = "E2EFLOOD0000001", "flood.example.test", 2000
	sim := startFloodSim(t, serial, domain)
	d := startDevice(t, "", "--admin-password-file", adminPasswordFile(t), "--serial", serial,
		"--ca-file", filepath.Join(sim.tlsDir, "ca.pem"))
	d.mustExec("system-view", "ip host "+domain+" 127.0.0.1",
		fmt.Sprintf("cloud-management server port %d", sim.port), "cloud-management server domain "+domain)
	waitFor(t, 15*time.Second, "the device connected to cloudsim", func() bool { return sim.device(t, serial).Connected })

	p := openPTYShell(t, dialSSH(t, d.sshAddr, "admin", adminPassword))
	p.waitOutput("<netdevd>", 5*time.Second)
	clock := func() int { return len(clockAnswer.FindAllString(p.text(), -1)) }

	// A flood can end before a display clock was seen inside it (a fast
	// machine): then another flood, a bounded number of times.
	during := 0
	for round := 1; during == 0; round++ {
		if round > 3 {
			t.Fatalf("no display clock answered during any of %d floods", round-1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		flood := sim.cli(ctx, "flood", "--serial", serial, "--count", fmt.Sprint(count), "--json",
			"display current-configuration", "display cloud-management state")
		out := &syncBuf{}
		flood.Stdout, flood.Stderr = out, out
		if err := flood.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- flood.Wait() }()
		inFlood := func() bool { f := sim.device(t, serial).Flood; return f != nil && f.Answered < f.Count }
		waitFor(t, 30*time.Second, "the flood started", func() bool {
			f := sim.device(t, serial).Flood
			return f != nil && f.Answered > 0 || len(done) > 0
		})
		for len(done) == 0 {
			before := clock()
			if !inFlood() {
				break
			}
			fmt.Fprint(p.in, "display clock\r")
			waitFor(t, 30*time.Second, "display clock answered", func() bool { return clock() > before })
			if inFlood() {
				during++
			}
		}
		err := <-done
		cancel()
		var r struct {
			Count, Sent, Answered, OK int
			InOrder                   bool   `json:"in_order"`
			FirstOutput               string `json:"first_output"`
			Error                     string
		}
		if err != nil || json.Unmarshal([]byte(out.String()), &r) != nil {
			t.Fatalf("cloudsim flood: %v\n%s", err, out)
		}
		if r.Sent != count || r.Answered != count || !r.InOrder || r.OK != count || r.Error != "" ||
			!strings.Contains(r.FirstOutput, " cloud-management server domain "+domain) ||
			!strings.Contains(r.FirstOutput, "Cloud connection state   : Established") {
			t.Fatalf("flood round %d: %s", round, out)
		}
		t.Logf("round %d: %d execs in %s s, %d display clock answered during the flood", round, count, fmtJSON(out.String(), "seconds"), during)
	}

	// save without force: the closed-stdin answer, as `netdevd exec save`
	script, code := d.exec("save")
	out, err := sim.cli(context.Background(), "exec", "--serial", serial, "save").CombinedOutput()
	if err == nil || code == 0 || string(out) != script || !strings.Contains(script, "Configuration is not saved!") {
		t.Fatalf("cloud exec save (%v):\n%s\nnetdevd exec save (status %d):\n%s", err, out, code, script)
	}
	if st := d.mustExec("display cloud-management state"); !strings.Contains(st, "Established") {
		t.Fatalf("the flood cost the connection:\n%s", st)
	}
}

// fmtJSON picks one field of a JSON object as text.
func fmtJSON(s, field string) string {
	var m map[string]any
	json.Unmarshal([]byte(s), &m)
	return fmt.Sprint(m[field])
}

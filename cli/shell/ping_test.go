package shell

import (
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

// Ctrl+C while ping runs in the interactive shell ends it (SIGINT cancels
// the command's context) and prints the statistics of what was sent, and
// only then the next prompt.
func TestInteractivePingCtrlC(t *testing.T) {
	c := startInteractiveMode(t, "grammar")
	prompt := "<" + config.DefaultSysname + ">"
	c.expect(prompt)
	c.send("ping -c 1000 192.0.2.1\r")
	c.expect("Ping 192.0.2.1 (192.0.2.1): 56 data bytes, press CTRL_C to break\n")
	c.expect("56 bytes from 192.0.2.1: icmp_seq=2 ttl=64 time=1.000 ms\n")
	c.typeAhead("\x03")
	c.expect("\n--- Ping statistics for 192.0.2.1 ---\n")
	c.expect(" packet(s) received, 0.0% packet loss\nround-trip min/avg/max/std-dev = 1.000/1.000/1.000/0.000 ms\n" + prompt)
	c.send("display clock\r") // the session goes on
	c.expect(prompt)
	c.send("quit\r")
	if err := c.wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

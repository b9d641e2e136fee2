package shell

import (
	"strings"
	"testing"
)

// TestInteractiveReadSecret: a password question shows no key typed, and
// editing keys work on the hidden answer.
func TestInteractiveReadSecret(t *testing.T) {
	c := startInteractive(t)
	c.expect("<dev>")
	c.send("secret\r")
	c.expect("Password:")
	mark := c.pos
	c.send("hunter2x\x7f\r")
	c.expect("SECRET[hunter2] err=<nil>\n")
	c.mu.Lock()
	shown := c.plain.String()[mark:]
	c.mu.Unlock()
	if strings.Contains(strings.SplitN(shown, "SECRET[", 2)[0], "hunter") {
		t.Fatalf("the password was echoed: %q", shown)
	}
	c.expect("<dev>")
}

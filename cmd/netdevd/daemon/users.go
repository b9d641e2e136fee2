package daemon

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
)

// `display users`: the console lines held by `netdevd shell` on the box,
// then the SSH server's VTY lines. Idx is the absolute line number, as on
// Comware: CON 0 is 0, VTY n is n+1.

// consoles are the console shells attached now. Every console shell is
// line CON 0; their idle time is since the console's last request (the
// daemon does not see a console's keystrokes, only its commands).
type consoles struct {
	mu       sync.Mutex
	nextID   int
	attached map[int]consoleLine
	lastUsed time.Time
}

type consoleLine struct {
	pid   int
	since time.Time
}

func (c *consoles) attach(pid int, now time.Time) (detach func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attached == nil {
		c.attached = map[int]consoleLine{}
	}
	id := c.nextID
	c.nextID++
	c.attached[id] = consoleLine{pid: pid, since: now}
	c.lastUsed = now
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.attached, id)
			c.mu.Unlock()
		})
	}
}

// touch records a request from the console.
func (c *consoles) touch(now time.Time) {
	c.mu.Lock()
	c.lastUsed = now
	c.mu.Unlock()
}

func (c *consoles) sessions(now time.Time) []device.VTYSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	idle := max(now.Sub(c.lastUsed), 0)
	var out []device.VTYSession
	for _, l := range c.attached {
		out = append(out, device.VTYSession{Idx: 0, Line: Console.Line, Idle: idle, Since: l.since, Pid: l.pid})
	}
	slices.SortFunc(out, func(a, b device.VTYSession) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Pid, b.Pid))
	})
	return out
}

func (v callerView) Users(context.Context) ([]device.VTYSession, error) {
	users := v.d.sys.consoles.sessions(v.d.clock.Now())
	for i := range users {
		users[i].Current = v.id.Line == Console.Line
	}
	for _, u := range v.d.features.sessions() {
		u.Idx++ // after the console line
		u.Current = u.Line == v.id.Line && u.User == v.id.User
		users = append(users, u)
	}
	return users, nil
}

// AttachConsole lists a console shell in `display users` until detach.
func (v callerView) AttachConsole(_ context.Context, pid int) (func(), error) {
	if v.id != Console {
		return nil, device.ErrPermission
	}
	log := v.d.log
	log.Log("SHELL", logbuf.Notification, "SHELL_LOGIN", consoleUser+" logged in from "+consoleLineName+".")
	detach := v.d.sys.consoles.attach(pid, v.d.clock.Now())
	var once sync.Once
	return func() {
		once.Do(func() {
			detach()
			log.Log("SHELL", logbuf.Notification, "SHELL_LOGOUT", consoleUser+" logged out from "+consoleLineName+".")
		})
	}, nil
}

// A console login has no user name; Comware's log names the line's user
// "Console" and the line as console0 (docs/operations.md).
const (
	consoleUser     = "Console"
	consoleLineName = "console0"
)

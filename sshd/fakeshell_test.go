package sshd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reeflective/readline"
	"golang.org/x/sys/unix"

	clishell "github.com/netdevd/netdevd/cli/shell"
	"github.com/netdevd/netdevd/internal/termrelay"
	"github.com/netdevd/netdevd/internal/tmpguard"
)

// The test binary doubles as the shell child: TestMain runs a fake shell
// when fakeShellEnv is set.
const fakeShellEnv = "NETDEVD_SSHD_FAKE_SHELL"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeShellEnv) {
	case ModeReadline:
		fakeReadline()
		os.Exit(0)
	case ModeLine:
		fakeLine()
		os.Exit(0)
	case "reeflective":
		realReadline()
		os.Exit(0)
	case "stubborn": // ignores SIGHUP, as a child that catches it might, and its input
		signal.Ignore(syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
		fmt.Print("<dev>")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	os.Exit(tmpguard.Main(m))
}

// fakeLine is the real line-mode shell (cli/clishell.RunLine, which echoes
// what it reads) over a tiny grammar: prompt "<dev>", "quit" ends, "size"
// prints the window size, anything else prints "executed: LINE".
func fakeLine() {
	clishell.RunLine(context.Background(), &fakeGrammar{}, os.Stdin, os.Stdout, clishell.LineOptions{Rows: -1})
}

type fakeGrammar struct{ ended bool }

func (g *fakeGrammar) Prompt(context.Context) string       { return "<dev>" }
func (g *fakeGrammar) Help(context.Context, string) string { return "" }
func (g *fakeGrammar) Complete(string) []string            { return nil }
func (g *fakeGrammar) Ended() bool                         { return g.ended }
func (g *fakeGrammar) Execute(_ context.Context, line string, t clishell.Terminal) bool {
	switch line = strings.TrimSpace(line); line {
	case "quit":
		g.ended = true
	case "size":
		ws, _ := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
		fmt.Fprintf(t, "size %dx%d\n", ws.Col, ws.Row)
	default:
		fmt.Fprintf(t, "executed: %s\n", line)
	}
	return true
}

// fakeReadline behaves like reeflective/readline where it matters here:
// raw mode, its own echo, a cursor position query (ESC[6n) before each
// prompt and after each keystroke (a redraw), waiting for the answer and
// discarding the user bytes that come in the same read() as the answer —
// the library's behaviour that the relay must work around.
func fakeReadline() {
	t, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		fmt.Println("not a terminal")
		os.Exit(3)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(0, unix.TCSETS, t); err != nil {
		os.Exit(4)
	}
	var keys []byte
	buf := make([]byte, 256)
	lastPos := ""
	read := func() []byte {
		n, err := os.Stdin.Read(buf)
		if err != nil || n == 0 {
			os.Exit(0)
		}
		return buf[:n]
	}
	cursor := func() {
		os.Stdout.WriteString("\x1b[6n")
		for {
			chunk := read()
			if row, col, _, ok := termrelay.FindCPR(chunk); ok {
				lastPos = fmt.Sprintf("%d;%d", row, col)
				return // the rest of this read is lost, as in readline
			}
			keys = append(keys, chunk...)
		}
	}
	for {
		cursor()
		os.Stdout.WriteString("<dev>")
		var line []byte
	edit:
		for {
			if len(keys) == 0 {
				keys = append(keys, read()...)
			}
			c := keys[0]
			keys = keys[1:]
			switch c {
			case '\r', '\n':
				break edit
			case 4:
				if len(line) == 0 {
					os.Stdout.WriteString("\r\n")
					return
				}
			case 0x7f, '\b':
				if len(line) > 0 {
					line = line[:len(line)-1]
					os.Stdout.WriteString("\b \b")
				}
			default:
				line = append(line, c)
				os.Stdout.Write([]byte{c})
			}
			cursor()
		}
		os.Stdout.WriteString("\r\n")
		s := string(line)
		if strings.HasPrefix(s, "echo ") {
			s = "echo"
		}
		switch s {
		case "":
		case "quit":
			return
		case "pos":
			fmt.Printf("pos %s\r\n", lastPos)
		case "echo":
			fmt.Printf("echo-pos %s\r\n", lastPos)
		case "size":
			ws, _ := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
			fmt.Printf("size %dx%d\r\n", ws.Col, ws.Row)
		default:
			fmt.Printf("executed: %s\r\n", line)
		}
	}
}

// realReadline is the library the daemon's shell child uses, so that the
// relay is tested against the real thing too.
func realReadline() {
	rl := readline.NewShell()
	rl.Prompt.Primary(func() string { return "<dev>" })
	for {
		line, err := rl.Readline()
		if err != nil {
			return
		}
		switch line = strings.TrimSpace(line); line {
		case "":
		case "quit":
			return
		default:
			fmt.Printf("executed: %s\n", line)
		}
	}
}

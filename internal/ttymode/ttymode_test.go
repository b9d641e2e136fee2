//go:build linux

package ttymode

import (
	"io"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// On a terminal in LineInput mode the bytes a client sends reach the
// program unchanged (CR stays CR, Ctrl+C is a byte, no line is needed)
// and nothing is echoed: the first byte the client reads back is what the
// program wrote.
func TestLineInputNoEchoNoTranslation(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	old, err := SetLineInput(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if old.Lflag&unix.ECHO == 0 { // the default mode it replaced echoes
		t.Fatalf("previous mode not returned: lflag %#o", old.Lflag)
	}
	in := "ab\r\n\x03\x1a"
	if _, err := master.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(in))
	if _, err := io.ReadFull(tty, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != in {
		t.Fatalf("program read %q, want %q", got, in)
	}
	if _, err := tty.Write([]byte("X")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(master, b); err != nil {
		t.Fatal(err)
	}
	if b[0] != 'X' {
		t.Fatalf("client read %q first: the input was echoed", b)
	}
}

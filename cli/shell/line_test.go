package shell

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func runLine(t *testing.T, input string) (string, *fakeEngine) {
	t.Helper()
	f := &fakeEngine{}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := RunLine(ctx, f, strings.NewReader(input), &out, LineOptions{}); err != nil {
		t.Fatalf("RunLine: %v", err)
	}
	if bytes.IndexByte(out.Bytes(), 0x1b) >= 0 {
		t.Errorf("output has an escape byte: %q", out.String())
	}
	return out.String(), f
}

func TestLinePipeSession(t *testing.T) {
	in := "display version\n" +
		"\n" +
		"system-view\n" +
		"display ver?\n" +
		"sion\n" +
		"\x1a" +
		"dis  big?\n" + // help, then the pending line is continued
		"\n" + // …and run as typed: "dis  big"
		"q\n" + // the pager reads a key; then the output is as typed
		"noeol\n" +
		"quit\n" +
		"display version\n" // after quit: never run
	want := "<dev>\nEXEC[display version]\nFake 1.0\n" +
		"<dev>\n" +
		"<dev>\nEXEC[system-view]\nSystem View: return to User View with Ctrl+Z.\n" +
		"[dev]display ver?\nHELP[display ver]\n  version  Version\n" +
		"[dev]display ver\nEXEC[display version]\nFake 1.0\n" +
		"[dev]\nEXEC[return]\n" +
		"<dev>dis  big?\nHELP[dis  big]\n  version  Version\n" +
		"<dev>dis  big\nEXEC[dis  big]\n"
	for i := 1; i <= 23; i++ {
		want += "line " + strconv.Itoa(i) + "\n"
	}
	want += "  ---- More ----\r                \r" +
		"<dev>\n" + // the "\n" after the key: an empty line
		"<dev>\nEXEC[noeol]\nno newline\n" +
		"<dev>\nEXEC[quit]\n"
	got, f := runLine(t, in)
	if got != want {
		t.Errorf("output\n got: %q\nwant: %q", got, want)
	}
	wantLines := []string{"display version", "system-view", "display version", "return", "dis  big", "noeol", "quit"}
	if !reflect.DeepEqual(f.Lines(), wantLines) {
		t.Errorf("executed %q, want %q", f.Lines(), wantLines)
	}
	if !f.Ended() {
		t.Error("not ended")
	}
}

func TestLinePipeEOFAndLineEnds(t *testing.T) {
	// "\r\n", "\r" and a last line without end; Ctrl+C drops a line.
	got, f := runLine(t, "display version\r\nsystem-view\rxyz\x03return")
	want := []string{"display version", "system-view", "return"}
	if !reflect.DeepEqual(f.Lines(), want) {
		t.Errorf("executed %q, want %q (output %q)", f.Lines(), want, got)
	}
	if !strings.HasSuffix(got, "[dev]\n[dev]\nEXEC[return]\n<dev>\n") {
		t.Errorf("output should end after the last command: %q", got)
	}
	got, f = runLine(t, "")
	if got != "<dev>\n" || len(f.Lines()) != 0 {
		t.Errorf("empty input: %q %q", got, f.Lines())
	}
}

func TestLinePipeDialogue(t *testing.T) {
	got, _ := runLine(t, "ask\nY\nask\n\x03quit\n")
	want := "<dev>\nEXEC[ask]\nAre you sure? [Y/N]:\nANSWER[Y] err=<nil>\n" +
		"<dev>\nEXEC[ask]\nAre you sure? [Y/N]:\nANSWER[] err=interrupted\n" +
		"<dev>\nEXEC[quit]\n"
	if got != want {
		t.Errorf("output\n got: %q\nwant: %q", got, want)
	}
}

func TestLineContextCancelWhileReading(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f := &fakeEngine{}
	go func() { done <- RunLine(ctx, f, pr, io.Discard, LineOptions{}) }()
	time.Sleep(20 * time.Millisecond) // RunLine is blocked reading
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("RunLine = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not return")
	}
	go pw.Write([]byte("display version\n")) // read by the parked loop: not run
	time.Sleep(20 * time.Millisecond)
	if got := f.Lines(); len(got) != 0 {
		t.Errorf("ran %q after cancel", got)
	}
}

func TestLineContextCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f := &fakeEngine{}
	cancel()
	go func() { done <- RunLine(ctx, f, pr, io.Discard, LineOptions{}) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("want ctx error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLine did not return")
	}
}

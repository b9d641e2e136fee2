package cli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

const (
	qSure      = askSaveSure
	qFile      = askSaveFileLine1 + "\n" + askSaveFileLine2
	qOverwrite = "flash:/startup.cfg exists, overwrite? [Y/N]:"
	saved      = "Validating file. Please wait...\nSaved the current configuration to mainboard device successfully.\n"
)

func TestSaveDialogue(t *testing.T) {
	tests := []struct {
		name    string
		exists  bool
		answers []string
		want    string
		ok      bool
		saves   []string
	}{
		{"yes, default file, new", false, []string{"y", ""}, qSure + "y\n" + qFile + "\n" + saved, true, []string{"startup.cfg"}},
		{"yes, overwrite", true, []string{"Y", "", "y"}, qSure + "Y\n" + qFile + "\n" + qOverwrite + "y\n" + saved, true, []string{"startup.cfg"}},
		{"no", true, []string{"n"}, qSure + "n\nConfiguration is not saved!\n", true, nil},
		{"no overwrite", true, []string{"y", "", "N"}, qSure + "y\n" + qFile + "\n" + qOverwrite + "N\nConfiguration is not saved!\n", true, nil},
		{"re-ask", false, []string{"maybe", "", "y", ""}, qSure + "maybe\n" + askYesOrNo + "\n" + askYesOrNo + "y\n" + qFile + "\n" + saved, true, []string{"startup.cfg"}},
		{"empty answer", false, []string{"", "y", ""}, qSure + "\nBefore pressing ENTER you must choose 'YES' or 'NO'[Y/N]:y\n" + qFile + "\n" + saved, true, []string{"startup.cfg"}},
		{"other file", false, []string{"y", "flash:/backup.cfg"}, qSure + "y\n" + qFile + "flash:/backup.cfg\n" + saved, true, []string{"backup.cfg"}},
		{"bad file", false, []string{"y", "backup.txt"}, qSure + "y\n" + qFile + "backup.txt\n" + "The file name is invalid(does not end with .cfg).\n", false, nil},
		{"input ends", false, nil, qSure + "Configuration is not saved!\n", false, nil},
	}
	for _, tt := range tests {
		s, d := newTestSession(admin)
		if tt.exists {
			d.files["startup.cfg"] = "#\nreturn\n"
		}
		term := &fakeTerminal{answers: tt.answers}
		ok := s.Execute(context.Background(), "save", term)
		if ok != tt.ok || term.out.String() != tt.want || !slices.Equal(d.saves, tt.saves) {
			t.Errorf("%s: ok=%v saves=%v got\n%q\nwant\n%q", tt.name, ok, d.saves, term.out.String(), tt.want)
		}
	}
}

func TestSaveWithoutQuestions(t *testing.T) {
	for _, line := range []string{"save force", "write force", "sa f", "save flash:/x.cfg", "save x.cfg force"} {
		s, d := newTestSession(admin)
		d.files["startup.cfg"] = ""
		out, ok := run(t, s, line)
		if !ok || out != saved || len(d.saves) != 1 {
			t.Errorf("%q: ok=%v %q %v", line, ok, out, d.saves)
		}
	}
	s, _ := newTestSession(admin)
	if out, ok := run(t, s, "system-view", "interface Vlan-interface1", "save force"); !ok || out != saved {
		t.Errorf("save in a sub-view: %q", out)
	}
}

func TestRunBatch(t *testing.T) {
	d := newFakeDevice()
	d.files["startup.cfg"] = ""
	out, ok := RunBatch(context.Background(), d, admin, []string{
		"system-view", "sysname Edge", "return", "save", "y", "", "y", "display clock | include nothing",
	})
	want := "System View: return to User View with Ctrl+Z.\n" +
		qSure + "y\n" + qFile + "\n" + "flash:/startup.cfg exists, overwrite? [Y/N]:y\n" + saved
	if !ok || out != want {
		t.Errorf("ok=%v got\n%q\nwant\n%q", ok, out, want)
	}
	if d.cfg.Sysname != "Edge" || d.files["startup.cfg"] == "" {
		t.Errorf("not applied/saved: %q", d.files["startup.cfg"])
	}

	out, ok = RunBatch(context.Background(), d, admin, []string{"display clound", "display version"})
	if ok || !strings.HasPrefix(out, caret(6+8, unrecognized)+"Comware Software") {
		t.Errorf("error in batch: ok=%v %q", ok, out)
	}
	out, ok = RunBatch(context.Background(), d, admin, []string{"quit", "system-view"})
	if !ok || out != "" {
		t.Errorf("quit should end the batch: %q", out)
	}
	// input that ends inside a dialogue: what a script on a closed stdin gets
	out, ok = RunBatch(context.Background(), d, admin, []string{"save"})
	if want := qSure + "\nConfiguration is not saved!\n"; ok || out != want {
		t.Errorf("save without answers: ok=%v %q, want %q", ok, out, want)
	}
}

// TestRunBatchStopsWhenContextEnds: a batch whose context ended (the cloud
// exec's time limit) runs no further line.
func TestRunBatchStopsWhenContextEnds(t *testing.T) {
	d := newFakeDevice()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, ok := RunBatch(ctx, d, admin, []string{"system-view", "sysname Late"})
	if ok || out != "" || d.cfg.Sysname == "Late" {
		t.Errorf("ok=%v %q sysname %q", ok, out, d.cfg.Sysname)
	}
}

// interruptTerminal fails ReadLine like the shells do on Ctrl+C.
type interruptTerminal struct{ fakeTerminal }

func (t *interruptTerminal) ReadSecret(prompt string) (string, error) { return t.ReadLine(prompt) }

func (t *interruptTerminal) ReadLine(prompt string) (string, error) {
	t.out.WriteString(prompt)
	return "", errors.New("interrupted")
}

func TestSaveInterrupted(t *testing.T) {
	s, d := newTestSession(admin)
	term := &interruptTerminal{}
	if !s.Execute(context.Background(), "save", term) || term.out.String() != qSure || len(d.saves) != 0 {
		t.Errorf("got %q saves %v", term.out.String(), d.saves)
	}
}

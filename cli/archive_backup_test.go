package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/netdevd/netdevd/internal/config"
)

const wrongParamAt = " % Wrong parameter found at '^' position.\n"

func TestArchiveSettings(t *testing.T) {
	sys := "system-view"
	tests := []struct {
		name  string
		lines []string
		want  config.Archive
	}{
		{"location", []string{sys, "archive configuration location flash:/archive filename-prefix my_archive"},
			config.Archive{Location: "flash:/archive", Prefix: "my_archive", Max: 5}},
		{"normalized", []string{sys, "arch conf loc FLASH:/Arch-1/ filename-prefix A_b-9"},
			config.Archive{Location: "flash:/Arch-1", Prefix: "A_b-9", Max: 5}},
		{"max", []string{sys, "archive configuration max 10"}, config.Archive{Max: 10}},
		{"undo max", []string{sys, "archive configuration max 1", "undo archive configuration max"}, config.Archive{Max: 5}},
		{"undo location resets max", []string{sys, "archive configuration location flash:/a filename-prefix p",
			"archive configuration max 7", "undo archive configuration location"}, config.Archive{Max: 5}},
	}
	for _, tt := range tests {
		if c := configAfter(t, tt.lines...); c.Archive != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, c.Archive, tt.want)
		}
	}
	errs := []struct{ line, at, msg string }{
		{"archive configuration max 11", "11", wrongParamAt},
		{"archive configuration max 0", "0", wrongParamAt},
		{"archive configuration location disk:/a filename-prefix p", "disk", wrongParamAt},
		{"archive configuration location flash:/a/b filename-prefix p", "flash", wrongParamAt},
		{"archive configuration location flash:/a filename-prefix a.b", "a.b", wrongParamAt},
		{"archive configuration location flash:/a filename-prefix " + strings.Repeat("p", 31), "ppp", wrongParamAt},
		{"archive configuration location flash:/a", "", " % Incomplete command found at '^' position.\n"},
	}
	for _, tt := range errs {
		s, d := newTestSession(admin)
		pos := len(tt.line)
		if tt.at != "" {
			pos = strings.LastIndex(tt.line, " "+tt.at) + 1
		}
		want := strings.Repeat(" ", len("[netdevd]")+pos) + "^\n" + tt.msg
		out, ok := run(t, s, sys, tt.line)
		if ok || out != want || d.cfg.Archive != config.Default().Archive {
			t.Errorf("%q: ok=%v\n%q\nwant\n%q", tt.line, ok, out, want)
		}
	}
	s, _ := newTestSession(operator)
	if out, ok := run(t, s, "archive configuration"); ok || out != "Permission denied.\n" {
		t.Errorf("operator archive: %q", out)
	}
}

func TestDisplayArchive(t *testing.T) {
	s, d := newTestSession(operator)
	out, ok := run(t, s, "display archive configuration")
	if want := "Location: Not configured\nFilename prefix: Not configured\nMaximum number of archive files: 5\n"; !ok || out != want {
		t.Errorf("not configured:\n%q\nwant\n%q", out, want)
	}
	d.cfg.Archive = config.Archive{Location: "flash:/archive", Prefix: "my_archive", Max: 3}
	out, _ = run(t, s, "display archive configuration")
	if want := "Location: flash:/archive\nFilename prefix: my_archive\nMaximum number of archive files: 3\nNext archive file to be saved: my_archive_1.cfg\n"; out != want {
		t.Errorf("empty:\n%q\nwant\n%q", out, want)
	}
	d.files["archive/my_archive_1.cfg"], d.files["archive/my_archive_2.cfg"] = "", ""
	out, _ = run(t, s, "dis archive conf")
	want := `Location: flash:/archive
Filename prefix: my_archive
Maximum number of archive files: 3
 No. TimeStamp                  FileName
 1   Fri May 29 21:34:41 2026   my_archive_1.cfg
#2   Fri May 29 21:35:41 2026   my_archive_2.cfg
'#' indicates the most recent archive file.
Next archive file to be saved: my_archive_3.cfg
`
	if out != want {
		t.Errorf("with files:\n%s\nwant\n%s", out, want)
	}
}

func TestArchiveNow(t *testing.T) {
	s, d := newTestSession(admin)
	if out, ok := run(t, s, "archive configuration"); ok || out != " % The archive directory and file name prefix are not configured.\n" {
		t.Errorf("unconfigured: %q", out)
	}
	run(t, s, "system-view", "archive configuration location flash:/archive filename-prefix my_archive", "sysname A1", "return")
	tests := []struct {
		answers []string
		want    string
		ok      bool
		files   int
	}{
		{[]string{"y"}, askArchiveSure + "y\nThe archive file my_archive_1.cfg is saved.\n", true, 1},
		{[]string{"maybe", "N"}, askArchiveSure + "maybe\n" + askYesOrNo + "N\n", true, 1},
		{nil, askArchiveSure + "The running configuration is not archived.\n", false, 1},
		{[]string{"Y"}, askArchiveSure + "Y\nThe archive file my_archive_2.cfg is saved.\n", true, 2},
	}
	for i, tt := range tests {
		term := &fakeTerminal{answers: tt.answers}
		ok := s.Execute(context.Background(), "archive configuration", term)
		n := 0
		for name := range d.files {
			if strings.HasPrefix(name, "archive/") {
				n++
			}
		}
		if ok != tt.ok || term.out.String() != tt.want || n != tt.files {
			t.Errorf("%d: ok=%v files=%d\n%q\nwant\n%q", i, ok, n, term.out.String(), tt.want)
		}
	}
	if !strings.Contains(d.files["archive/my_archive_1.cfg"], " sysname A1\n") {
		t.Errorf("archive content: %q", d.files["archive/my_archive_1.cfg"])
	}
}

func TestConfigurationReplace(t *testing.T) {
	const (
		replacing = "Now replacing the current configuration. Please wait...\n"
	)
	good := rendered("FromFile", "#\n dns server 192.0.2.53\n", "")
	newSession := func() (*Session, *fakeDevice) {
		s, d := newTestSession(admin)
		run(t, s, "system-view", "sysname Before", "ip host h 192.0.2.1")
		d.files["archive/my_archive_1.cfg"] = good
		d.files["bad.cfg"] = "#\n sysname X\n bogus line\n#\nreturn\n"
		return s, d
	}
	s, d := newSession()
	term := &fakeTerminal{answers: []string{"n"}}
	line := "configuration replace file flash:/archive/my_archive_1.cfg"
	ok := s.Execute(context.Background(), line, term)
	want := askReplaceSave + "n\n" + replacing + "Succeeded in replacing current configuration with the file flash:/archive/my_archive_1.cfg.\n"
	if !ok || term.out.String() != want || Render(d.cfg) != good || len(d.saves) != 0 {
		t.Errorf("replace:\n%q\nwant\n%q\n%s", term.out.String(), want, Render(d.cfg))
	}
	if p := s.Prompt(context.Background()); p != "[FromFile]" {
		t.Errorf("prompt after replace: %q", p)
	}

	s, d = newSession()
	before := Render(d.cfg)
	term = &fakeTerminal{answers: []string{"N"}}
	ok = s.Execute(context.Background(), "configuration replace file bad.cfg", term)
	want = askReplaceSave + "N\n" + replacing + " % Failed to replace current configuration with the file bad.cfg: line 3\n"
	if ok || term.out.String() != want || Render(d.cfg) != before {
		t.Errorf("bad file:\n%q\nwant\n%q", term.out.String(), want)
	}

	s, d = newSession()
	term = &fakeTerminal{answers: []string{"y", ""}}
	ok = s.Execute(context.Background(), "con rep fil flash:/archive/my_archive_1.cfg", term)
	want = askReplaceSave + "y\n" + qFile + "\n" + saved + replacing
	if !ok || !strings.HasPrefix(term.out.String(), want) || len(d.saves) != 1 || !strings.Contains(d.files["startup.cfg"], "sysname Before") {
		t.Errorf("save first:\n%q\nwant prefix\n%q", term.out.String(), want)
	}

	s, _ = newSession()
	term = &fakeTerminal{}
	if ok := s.Execute(context.Background(), line, term); ok || term.out.String() != askReplaceSave+"The configuration is not replaced.\n" {
		t.Errorf("input ends: %q", term.out.String())
	}
	for _, bad := range []string{"configuration replace file x.txt", "configuration replace file flash:/a/b/c.cfg", "configuration replace file ../x.cfg"} {
		s, _ = newSession()
		if out, ok := run(t, s, bad); ok || !strings.HasSuffix(out, wrongParamAt) {
			t.Errorf("%q: %q", bad, out)
		}
	}
	s, _ = newTestSession(admin)
	if out, ok := run(t, s, "configuration replace file a.cfg"); ok || !strings.Contains(out, "Unrecognized") {
		t.Errorf("replace is a system view command: %q", out)
	}
}

func TestBackupRestore(t *testing.T) {
	const (
		url     = "sftp://backup@192.0.2.9/srv/r1.cfg"
		backing = "Backing up the next startup configuration file to 192.0.2.9. Please wait..."
		restore = "Restoring the next startup configuration file from 192.0.2.9. Please wait..."
		fp      = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
	)
	s, d := newTestSession(admin)
	d.files["startup.cfg"] = "#\n sysname Saved\n#\nreturn\n"
	out, ok := run(t, s, "backup startup-configuration to "+url+" password S3cret!")
	if !ok || out != backing+"finished.\n" || d.files["sftp:"+url] != d.files["startup.cfg"] {
		t.Errorf("backup: %q", out)
	}
	out, ok = run(t, s, "backup startup-configuration to "+url+" host-key-fingerprint "+fp+" password S3cret!")
	if !ok || d.files["sftp-fp:"+url] != fp {
		t.Errorf("backup with fingerprint: %q", out)
	}
	for _, h := range s.History() {
		if strings.Contains(h, "S3cret") {
			t.Errorf("password in history: %q", h)
		}
	}
	if h := s.History(); h[len(h)-1] != "backup startup-configuration to "+url+" host-key-fingerprint "+fp+" password ******" {
		t.Errorf("history: %q", h[len(h)-1])
	}
	// Asked for the password.
	term := &fakeTerminal{answers: []string{"S3cret!"}}
	if ok := s.Execute(context.Background(), "backup startup-configuration to "+url, term); !ok || term.out.String() != "Password:S3cret!\n"+backing+"finished.\n" {
		t.Errorf("asked: %q", term.out.String())
	}
	term = &fakeTerminal{}
	if ok := s.Execute(context.Background(), "backup startup-configuration to "+url, term); ok || term.out.String() != "Password: % No password was given.\n" {
		t.Errorf("no answer: %q", term.out.String())
	}
	out, ok = run(t, s, "backup startup-configuration to "+url+" password wrong")
	if ok || out != backing+"\n % "+errFakeLogin.Error()+"\n" {
		t.Errorf("wrong password: %q", out)
	}

	d.files["sftp:"+url] = "#\n sysname Restored\n#\nreturn\n"
	out, ok = run(t, s, "restore startup-configuration from "+url+" password S3cret!")
	if !ok || out != restore+"finished.\n" || d.files["startup.cfg"] != d.files["sftp:"+url] {
		t.Errorf("restore: %q", out)
	}

	// Batch runs (netdevd exec): the answer is the next line, never shown.
	batch, ok := RunBatch(context.Background(), d, admin, []string{"backup startup-configuration to " + url, "Pa55word"})
	if !ok || batch != "Password:\n"+backing+"finished.\n" {
		t.Errorf("batch: %q", batch)
	}

	for _, bad := range []string{
		"backup startup-configuration to sftp://u:pw@192.0.2.9/x.cfg",
		"backup startup-configuration to sftp://192.0.2.9/x.cfg",
		"backup startup-configuration to ftp://u@192.0.2.9/x.cfg",
		"backup startup-configuration to sftp://u@192.0.2.9:70000/x.cfg",
		"backup startup-configuration to sftp://u@192.0.2.9/",
		"backup startup-configuration to sftp://u@bad_host/x.cfg",
		"restore startup-configuration from " + url + " host-key-fingerprint SHA256:short",
		"restore startup-configuration from " + url + " host-key-fingerprint MD5:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
	} {
		if out, ok := run(t, s, bad); ok || !strings.HasSuffix(out, wrongParamAt) {
			t.Errorf("%q: %q", bad, out)
		}
	}
	op, _ := newTestSession(operator)
	for _, line := range []string{"backup startup-configuration to " + url + " password x", "restore startup-configuration from " + url} {
		if out, ok := run(t, op, line); ok || out != "Permission denied.\n" {
			t.Errorf("operator %q: %q", line, out)
		}
	}
}

func TestParseSFTPURL(t *testing.T) {
	tests := []struct{ in, addr, path, str string }{
		{"sftp://u@h.example/srv/a.cfg", "h.example:22", "/srv/a.cfg", "sftp://u@h.example:22/srv/a.cfg"},
		{"SFTP://u@192.0.2.1:2222/~/a.cfg", "192.0.2.1:2222", "a.cfg", "sftp://u@192.0.2.1:2222/~/a.cfg"},
		{"sftp://u@[2001:db8::1]/a.cfg", "[2001:db8::1]:22", "/a.cfg", "sftp://u@[2001:db8::1]:22/a.cfg"},
	}
	for _, tt := range tests {
		u, err := ParseSFTPURL(tt.in)
		if err != nil || u.Addr() != tt.addr || u.Path != tt.path || u.String() != tt.str || u.User != "u" {
			t.Errorf("%q: %+v %v", tt.in, u, err)
		}
	}
}

package cli

import (
	"errors"
	"io"
	"strings"
)

// `reboot` (user view): Comware 7's dialogue, then the device restarts from
// its startup configuration (device.System.Reboot).
const (
	rebootChecking  = "Start to check configuration with next startup configuration file, please wait.........DONE!"
	askRebootSave   = "Current configuration may be lost after the reboot, save current configuration? [Y/N]:"
	askRebootSure   = "This command will reboot the device. Continue? [Y/N]:"
	rebootNow       = "Now rebooting, please wait..."
	rebootCancelled = "Reboot canceled."
)

func rebootCommand() *node {
	return kw("reboot", "Reboot the device").does(runReboot)
}

// runReboot asks to save a configuration that differs from the startup
// file (through the save dialogue; declining a step still leads to the last
// question), then whether to reboot. Output is shown before the device goes.
func runReboot(e *invocation) error {
	e.println(rebootChecking)
	changed, err := e.unsavedChanges()
	if err != nil {
		return err
	}
	if changed {
		save, err := e.askYesNo(askRebootSave)
		if err != nil {
			return rebootAborted(err)
		}
		if save {
			file, ok, err := e.saveFileDialogue()
			if err != nil {
				return err
			}
			if ok {
				if err := e.saveTo(file); err != nil {
					return err
				}
			}
		}
	}
	sure, err := e.askYesNo(askRebootSure)
	if err != nil || !sure {
		return rebootAborted(err)
	}
	e.println(rebootNow)
	e.flush()
	return e.s.dev.Reboot(e.ctx)
}

// rebootAborted ends the dialogue without rebooting: silently when the user
// said no or interrupted; input that ended before an answer (a script that
// asked for a reboot and did not confirm it) is an error line.
func rebootAborted(inputErr error) error {
	if errors.Is(inputErr, io.EOF) {
		return &cliError{kind: errPlain, msg: rebootCancelled}
	}
	return nil
}

// unsavedChanges reports whether the running configuration differs from
// the startup file, leaving out the version line (another build wrote it).
func (e *invocation) unsavedChanges() (bool, error) {
	cfg, err := e.running()
	if err != nil {
		return false, err
	}
	saved, err := e.s.dev.SavedConfiguration(e.ctx)
	if err != nil {
		return false, err
	}
	return withoutVersion(saved) != withoutVersion(Render(cfg)), nil
}

// withoutVersion drops the version line and line-end differences.
func withoutVersion(text string) string {
	var keep []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if !isVersionLine(strings.TrimSpace(l)) {
			keep = append(keep, strings.TrimRight(l, " "))
		}
	}
	return strings.TrimRight(strings.Join(keep, "\n"), "\n")
}

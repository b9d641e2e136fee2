package cli

import (
	"errors"
	"io"
	"strings"
)

const (
	defaultSaveFile  = "startup.cfg"
	askSaveSure      = "The current configuration will be written to the device. Are you sure? [Y/N]:"
	askSaveFileLine1 = "Please input the file name(*.cfg)[flash:/startup.cfg]"
	askSaveFileLine2 = "(To leave the existing filename unchanged, press the enter key):"
	saveNotSaved     = "Configuration is not saved!"
	saveValidating   = "Validating file. Please wait..."
	saveDone         = "Saved the current configuration to mainboard device successfully."
	saveBadFileName  = "The file name is invalid(does not end with .cfg)."
	askYesOrNo       = "Before pressing ENTER you must choose 'YES' or 'NO'[Y/N]:"
)

// runSave is `save [FILE] [force]`: with force, or with a file named on the
// line, it asks nothing; otherwise it runs Comware's dialogue.
func runSave(e *invocation) error {
	file := defaultSaveFile
	if e.has("file") {
		if err := checkCfgName(e, e.arg("file")); err != nil {
			return err
		}
		file = bareFileName(e.arg("file"))
	}
	if !e.has("force") && !e.has("file") {
		chosen, ok, err := e.saveDialogue()
		if err != nil || !ok {
			return err
		}
		file = chosen
	}
	return e.saveTo(file)
}

func (e *invocation) saveTo(file string) error {
	if err := e.s.dev.Save(e.ctx, file); err != nil {
		return err
	}
	e.println(saveValidating)
	e.println(saveDone)
	return nil
}

// saveDialogue asks the three questions. ok is false when the user said no
// (the refusal is printed); input ending mid-dialogue is an error line.
func (e *invocation) saveDialogue() (file string, ok bool, err error) {
	yes, err := e.askYesNo(askSaveSure)
	if err != nil || !yes {
		return "", false, e.notSaved(err)
	}
	return e.saveFileDialogue()
}

// saveFileDialogue asks for the file name and, when it exists, whether to
// overwrite it (`save` after its first question, `configuration replace`).
func (e *invocation) saveFileDialogue() (file string, ok bool, err error) {
	e.println(askSaveFileLine1)
	answer, err := e.ask(askSaveFileLine2)
	if err != nil {
		return "", false, e.notSaved(err)
	}
	file = defaultSaveFile
	if answer != "" {
		if !validCfgName(answer) {
			return "", false, &cliError{kind: errPlain, msg: saveBadFileName}
		}
		file = bareFileName(answer)
	}
	exists, err := e.s.dev.FileExists(e.ctx, file)
	if err != nil {
		return "", false, err
	}
	if exists {
		yes, err := e.askYesNo("flash:/" + file + " exists, overwrite? [Y/N]:")
		if err != nil || !yes {
			return "", false, e.notSaved(err)
		}
	}
	return file, true, nil
}

// notSaved ends a dialogue that did not get to saving. A declined save
// prints Comware's refusal and is not an error. Input that ended before an
// answer is one (a script asked for a save and did not get it), reported as
// the same line. Any other read error is the user interrupting (Ctrl+C):
// the command stops without output, as on the device.
func (e *invocation) notSaved(inputErr error) error {
	switch {
	case inputErr == nil:
		e.println(saveNotSaved)
		return nil
	case errors.Is(inputErr, io.EOF):
		return &cliError{kind: errPlain, msg: saveNotSaved}
	}
	return nil
}

// askYesNo asks until the answer is Y or N (any case); after any other
// answer (an empty one included) it asks again as Comware does.
func (e *invocation) askYesNo(question string) (bool, error) {
	for prompt := question; ; prompt = askYesOrNo {
		answer, err := e.ask(prompt)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(answer) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
	}
}

// checkCfgName refuses a file name typed on the `save` line: one that does
// not end with .cfg gets Comware's line; another bad one (a path, a
// character a file name may not hold) is Wrong parameter.
func checkCfgName(e *invocation, name string) error {
	switch {
	case validCfgName(name):
		return nil
	case !strings.HasSuffix(strings.ToLower(name), ".cfg"):
		return &cliError{kind: errPlain, msg: saveBadFileName}
	}
	return e.wrongParameter("file")
}

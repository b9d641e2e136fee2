package cli

// User view terminal commands: they change this session only.

func runScreenLengthDisable(e *invocation) error {
	e.s.paging = false
	return nil
}

func runUndoScreenLength(e *invocation) error {
	e.s.paging = true
	return nil
}

// terminal monitor / terminal debugging: cmd_infocenter.go.

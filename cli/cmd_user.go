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

func runTerminalMonitor(e *invocation) error {
	e.s.monitor = true
	e.println("The current terminal is enabled to display logs.")
	return nil
}

func runUndoTerminalMonitor(e *invocation) error {
	e.s.monitor = false
	e.println("The current terminal is disabled to display logs.")
	return nil
}

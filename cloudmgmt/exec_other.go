//go:build !linux

package cloudmgmt

// lowerThreadPriority does nothing where a thread has no nice value of its
// own (elsewhere setpriority would slow the whole process).
func lowerThreadPriority() {}

//go:build race

package sshd

// The race detector makes every shell child (this test binary) slow to
// start; tests that spawn hundreds of them do fewer runs.
const raceEnabled = true

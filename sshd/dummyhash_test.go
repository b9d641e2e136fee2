package sshd

import (
	"testing"

	"github.com/netdevd/netdevd/internal/password"
)

// The dummy hash must cost a real verification, so it must parse.
func TestDummyHashIsWellFormed(t *testing.T) {
	if !password.Valid(dummyHash) {
		t.Fatal("dummyHash is not a valid password hash: unknown users would be refused faster than wrong passwords")
	}
	if password.Verify(dummyHash, "") || password.Verify(dummyHash, "admin") {
		t.Fatal("dummyHash accepts a guessable password")
	}
}

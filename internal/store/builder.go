package store

import (
	"fmt"

	"github.com/netdevd/netdevd/internal/config"
)

// Builder is a configuration being built line by line, as loading a
// configuration file does. Changes apply in place to one working copy,
// so a 5,000-line file costs 5,000 small changes instead of 5,000 copies
// of an ever larger configuration (which made loading quadratic).
//
// It relies on the grammar's contract for change functions: a change that
// fails returns its error before it modifies anything. A change that
// leaves an invalid configuration is undone from a shallow snapshot,
// which is exact because such a change only sets or appends fields.
type Builder struct {
	cfg config.Config
}

// NewBuilder starts from cfg (which it takes a copy of).
func NewBuilder(cfg config.Config) *Builder { return &Builder{cfg: cfg.Clone()} }

// Apply runs change on the working copy.
func (b *Builder) Apply(change func(*config.Config) error) error {
	before := b.cfg
	if err := change(&b.cfg); err != nil {
		b.cfg = before
		return err
	}
	if err := b.cfg.Validate(); err != nil {
		b.cfg = before
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return nil
}

// Config returns a copy of what has been built.
func (b *Builder) Config() config.Config { return b.cfg.Clone() }

// Peek returns the working copy without copying it; callers must not keep
// or change it (the grammar reads the configuration before most lines).
func (b *Builder) Peek() config.Config { return b.cfg }

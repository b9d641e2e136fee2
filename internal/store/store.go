// Package store holds the daemon's running configuration: one versioned
// value, changed only by compare-and-swap so that concurrent sessions never
// lose each other's changes, with watchers told of every change.
package store

import (
	"errors"
	"fmt"
	"sync"

	"github.com/netdevd/netdevd/internal/config"
)

// ErrConflict means the configuration changed since the caller read it.
var ErrConflict = errors.New("configuration changed concurrently")

// Store is the running configuration.
type Store struct {
	mu       sync.Mutex
	cfg      config.Config
	version  uint64
	watchers map[chan struct{}]struct{}
}

// New returns a store holding cfg at version 1.
func New(cfg config.Config) *Store {
	return &Store{cfg: cfg.Clone(), version: 1, watchers: map[chan struct{}]struct{}{}}
}

// Get returns a copy of the configuration and its version.
func (s *Store) Get() (config.Config, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Clone(), s.version
}

// Update applies change to a copy and stores it if valid.
func (s *Store) Update(change func(*config.Config) error) error {
	s.mu.Lock()
	next := s.cfg.Clone()
	if err := change(&next); err != nil {
		s.mu.Unlock()
		return err
	}
	_, err := s.commitLocked(next)
	return err
}

// CompareAndSwap stores next if the configuration is still at version base.
func (s *Store) CompareAndSwap(base uint64, next config.Config) (uint64, error) {
	s.mu.Lock()
	if base != s.version {
		s.mu.Unlock()
		return 0, ErrConflict
	}
	return s.commitLocked(next.Clone())
}

// commitLocked validates and stores next, then unlocks and notifies. It
// returns the new version.
func (s *Store) commitLocked(next config.Config) (uint64, error) {
	if err := next.Validate(); err != nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("invalid configuration: %w", err)
	}
	s.cfg = next
	s.version++
	v := s.version
	for w := range s.watchers {
		select {
		case w <- struct{}{}:
		default: // a change is already pending for this watcher
		}
	}
	s.mu.Unlock()
	return v, nil
}

// Watch returns a channel that receives after each change (changes that
// happen before the watcher reads are coalesced into one), and a stop func.
func (s *Store) Watch() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.watchers[c] = struct{}{}
	s.mu.Unlock()
	return c, func() {
		s.mu.Lock()
		delete(s.watchers, c)
		s.mu.Unlock()
	}
}

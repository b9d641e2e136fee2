package controller

// Remote execution (docs/protocol.md §3): one exec sent on a device's main
// connection, its result awaited (flood.go sends many).

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gorilla/websocket"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// ExecResult is the device's answer to an exec.
type ExecResult struct {
	Output string `json:"output"`
	OK     bool   `json:"ok"`
}

// Exec runs lines on serial's device and waits for the result.
func (s *Server) Exec(ctx context.Context, serial string, lines []string) (ExecResult, error) {
	s.mu.Lock()
	d := s.devices[serial]
	if d == nil || d.main == nil {
		s.mu.Unlock()
		return ExecResult{}, fmt.Errorf("device %s is not connected", serial)
	}
	s.execSeq++
	id := fmt.Sprintf("exec-%d", s.execSeq)
	ch := make(chan ExecResult, 1)
	d.waiters[id] = ch
	p := d.main
	s.mu.Unlock()
	idJSON, _ := json.Marshal(id)
	if err := p.write(websocket.TextMessage, wire.Exec(idJSON, lines)); err != nil {
		s.mu.Lock()
		delete(d.waiters, id)
		s.mu.Unlock()
		return ExecResult{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		s.mu.Lock()
		delete(d.waiters, id)
		s.mu.Unlock()
		return ExecResult{}, ctx.Err()
	}
}

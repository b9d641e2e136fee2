package controller

import (
	"strconv"
	"time"
)

// Authentications counted for flap measurements: a device that comes back
// too often shows as many authentications (cmd/cloudsim README, `GET /auths`;
// the bench's flap row and the flap-damping e2e test read them).

// authCurveKeep is how many seconds of the per-second curve are kept.
const authCurveKeep = 3600

// authCount is guarded by Server.mu.
type authCount struct {
	total  uint64
	perSec map[int64]int // unix second → authentications answered 200
	oldest int64
}

// AuthInfo is the admin view of the authentications since start.
type AuthInfo struct {
	Total uint64 `json:"total"`
	// PerSecond maps a unix second (as a string, JSON keys) to the
	// authentications answered 200 in it; the last hour is kept.
	PerSecond map[string]int `json:"per_second"`
}

// countAuthLocked records one successful authentication of d at now.
func (s *Server) countAuthLocked(d *device, now time.Time) {
	d.auths++
	a := &s.auths
	a.total++
	if a.perSec == nil {
		a.perSec = map[int64]int{}
	}
	sec := now.Unix()
	a.perSec[sec]++
	if a.oldest == 0 {
		a.oldest = sec
	}
	for ; a.oldest < sec-authCurveKeep; a.oldest++ {
		delete(a.perSec, a.oldest)
	}
}

// Auths returns the authentication counters.
func (s *Server) Auths() AuthInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := AuthInfo{Total: s.auths.total, PerSecond: make(map[string]int, len(s.auths.perSec))}
	for sec, n := range s.auths.perSec {
		out.PerSecond[strconv.FormatInt(sec, 10)] = n
	}
	return out
}

package engineio

import "time"

// PollHeld reports whether a long-polling GET of the session is being held
// by the server (tests wait for it before acting on a pending poll).
func (s *Session) PollHeld() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pollWake != nil
}

// LookupSession returns the open session with id sid, or nil.
func (s *Server) LookupSession(sid string) *Session { return s.lookup(sid) }

// SetUpgradeHeadTimeout changes how long Listen waits for a request head,
// and returns a function restoring it.
func SetUpgradeHeadTimeout(d time.Duration) (restore func()) {
	old := upgradeTimeout
	upgradeTimeout = d
	return func() { upgradeTimeout = old }
}

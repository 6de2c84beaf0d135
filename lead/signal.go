package lead

import (
	"sync"
	"sync/atomic"
)

// signal tells jobs that something changed: changed returns a channel that
// the next fire closes. A job takes the channel before it reads the state
// it watches, so no change is missed between the read and the wait.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// leaderState is whether this instance holds the database's lease: the
// lease job sets it; the planner, heartbeat, change publisher and catalog
// reloader read it and wait on its changes.
type leaderState struct {
	held atomic.Bool
	sig  signal
}

// set records the lease and reports whether that changed it.
func (s *leaderState) set(held bool) bool {
	if s.held.Swap(held) == held {
		return false
	}
	s.sig.fire()
	return true
}

func (s *leaderState) get() bool                { return s.held.Load() }
func (s *leaderState) changed() <-chan struct{} { return s.sig.changed() }

// gate opens once: wait is closed from then on.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open()                 { g.once.Do(func() { close(g.ch) }) }
func (g *gate) wait() <-chan struct{} { return g.ch }

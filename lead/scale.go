package lead

import "time"

// Load is what the scaler sees of one tag at one moment.
type Load struct {
	Pending    uint64 // messages not yet delivered
	AckPending int    // delivered, not yet acked: being worked on
	Workers    int    // current desired count
	Min, Max   int
}

// Lag is the KEDA-style backlog: pending plus ack pending.
func (l Load) Lag() uint64 { return l.Pending + uint64(l.AckPending) }

// Scaler decides one tag's worker count. It scales up by one when every
// worker is busy (at least one unacked message each) and requests still
// wait, no faster than once per UpEvery so a new worker can start pulling;
// it scales down to Min only after the lag has stayed 0 for DownAfter.
// The two different conditions are the hysteresis: no flapping.
type Scaler struct {
	UpEvery   time.Duration
	DownAfter time.Duration

	lastUp   time.Time
	idleFrom time.Time // zero while there is lag
}

// Decide returns the new count and, when it changes, why.
func (s *Scaler) Decide(now time.Time, l Load) (int, string) {
	n := max(l.Workers, l.Min)
	if l.Lag() > 0 {
		s.idleFrom = time.Time{}
	} else if s.idleFrom.IsZero() {
		s.idleFrom = now
	}
	switch {
	case l.Workers < l.Min:
		return l.Min, "below min"
	case l.Pending > 0 && l.AckPending >= l.Workers && l.Workers < l.Max && now.Sub(s.lastUp) >= s.UpEvery:
		s.lastUp = now
		return l.Workers + 1, "every worker busy and requests waiting"
	case l.Workers > l.Min && !s.idleFrom.IsZero() && now.Sub(s.idleFrom) >= s.DownAfter:
		s.idleFrom = now
		return l.Min, "no lag for the cool-down"
	}
	return n, ""
}

// Package backoff is dqm's one retry delay: capped exponential with jitter.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Backoff yields capped exponential delays with jitter: each Next doubles
// the base up to Max and returns a random delay in [base/2, base], so
// instances retrying after one outage do not retry in step. The zero
// value is not useful: set Min and Max.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.Min
	case b.cur < b.Max:
		b.cur = min(2*b.cur, b.Max)
	}
	half := b.cur / 2
	return half + rand.N(half+1)
}

// Reset starts again from Min.
func (b *Backoff) Reset() { b.cur = 0 }

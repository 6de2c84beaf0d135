package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	bases := []time.Duration{100, 200, 400, 800, 1000, 1000} // ms: doubling, capped
	for round := range 50 {                                  // jitter is random: check the bounds many times
		b.Reset()
		for i, base := range bases {
			base *= time.Millisecond
			if d := b.Next(); d < base/2 || d > base {
				t.Fatalf("round %d step %d: %v outside [%v, %v]", round, i, d, base/2, base)
			}
		}
	}
}

func TestBackoffJitters(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 20 {
		b := Backoff{Min: time.Second, Max: time.Second}
		seen[b.Next()] = true
	}
	if len(seen) < 2 {
		t.Fatalf("20 first delays are all %v: no jitter", seen)
	}
}

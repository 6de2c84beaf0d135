package lead

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

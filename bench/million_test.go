package main

import (
	"slices"
	"testing"
	"time"
)

func TestHistBuckets(t *testing.T) {
	prev := -1
	for _, d := range []time.Duration{0, 1, 1023, 1024, 1039, 1040, 2047, 2048, time.Microsecond * 3, time.Millisecond, time.Second, time.Hour, 5 * time.Hour} {
		i := histIndex(d)
		if i < prev {
			t.Fatalf("histIndex(%v) = %d, below %d", d, i, prev)
		}
		prev = i
		if d >= 4*time.Hour {
			continue
		}
		if mid := histMid(i); mid < d-d/50 || mid > d+d/50+1 {
			t.Errorf("histMid(histIndex(%v)) = %v, off by more than 2 %%", d, mid)
		}
	}
	var h latHist
	for i := range 100 {
		h.add(time.Duration(i+1) * time.Microsecond)
	}
	if p := h.percentile(50); p < 49*time.Microsecond || p > 51*time.Microsecond {
		t.Errorf("p50 = %v, want 50µs", p)
	}
	if p := h.percentile(99); p < 98*time.Microsecond || p > 100*time.Microsecond {
		t.Errorf("p99 = %v, want 99µs", p)
	}
}

func TestPick(t *testing.T) {
	got, err := pick("-paths", "rest_cached, direct", rowPaths)
	if err != nil || !slices.Equal(got, []string{pathDirect, pathRESTCached}) {
		t.Fatalf("pick = %v, %v", got, err)
	}
	if got, _ := pick("-paths", "all", rowPaths); !slices.Equal(got, rowPaths) {
		t.Fatalf("all = %v", got)
	}
	if _, err := pick("-paths", "rest,nope", rowPaths); err == nil {
		t.Fatal("unknown path accepted")
	}
}

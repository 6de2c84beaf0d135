package console

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4}
	for _, tt := range []struct {
		name string
		cum  []float64 // per bound, then the total
		q    float64
		want float64
	}{
		{"none", []float64{0, 0, 0, 0}, .5, 0},
		{"all in the first bucket", []float64{10, 10, 10, 10}, .5, .5},
		{"middle bucket", []float64{0, 10, 10, 10}, .5, 1.5},
		{"spread", []float64{25, 50, 100, 100}, .75, 3},
		{"past the last bound", []float64{0, 0, 0, 10}, .99, 4},
	} {
		if got := quantile(tt.q, bounds, tt.cum); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if q := quantilesMS([]float64{.001, .01}, []float64{100, 100, 100}); q.P50 != .5 || q.P99 != .99 {
		t.Errorf("ms: %+v", q)
	}
}

// TestWindows: percentiles cover the last samplings, and a series that
// restarts (its counts go down) starts a new window.
func TestWindows(t *testing.T) {
	w := newWindows(2)
	if d := w.observe("k", []float64{1, 2}); !slices.Equal(d, []float64{1, 2}) {
		t.Fatalf("first: %v", d)
	}
	w.observe("k", []float64{2, 4})
	if d := w.observe("k", []float64{3, 6}); !slices.Equal(d, []float64{2, 4}) {
		t.Fatalf("two samplings back: %v", d)
	}
	if d := w.observe("k", []float64{10, 20}); !slices.Equal(d, []float64{8, 16}) {
		t.Fatalf("window slid: %v", d)
	}
	if d := w.observe("k", []float64{1, 1}); !slices.Equal(d, []float64{1, 1}) {
		t.Fatalf("restart: %v", d)
	}
	w.sweep()
	w.sweep()
	if len(w.seen) != 0 {
		t.Fatal("an unobserved series is kept")
	}
}

func TestRates(t *testing.T) {
	r := newRates()
	r.begin(0)
	if v := r.rate("k", 10); v != 0 {
		t.Fatalf("first: %v", v)
	}
	r.begin(2 * time.Second)
	if v := r.rate("k", 30); v != 10 {
		t.Fatalf("rate %v", v)
	}
	r.begin(time.Second)
	if v := r.rate("k", 5); v != 0 {
		t.Fatalf("a counter that went back: %v", v)
	}
}

func TestRing(t *testing.T) {
	r := newRing[int](3)
	for i := 1; i <= 5; i++ {
		r.add(i)
	}
	if got := r.all(); !slices.Equal(got, []int{3, 4, 5}) {
		t.Fatalf("all %v", got)
	}
	if got := r.since(func(v int) bool { return v > 3 }); !slices.Equal(got, []int{4, 5}) {
		t.Fatalf("since %v", got)
	}
	if got := r.since(func(v int) bool { return v > 9 }); len(got) != 0 {
		t.Fatalf("nothing new: %v", got)
	}
}

func TestAllowed(t *testing.T) {
	for _, tt := range []struct {
		auth   bool
		listen string
		want   bool
	}{
		{false, "127.0.0.1:8080", true},
		{false, "[::1]:8080", true},
		{false, "localhost:8080", true},
		{false, "0.0.0.0:8080", false},
		{false, ":8080", false},
		{false, "10.1.2.3:8080", false},
		{true, "0.0.0.0:8080", true},
		{true, ":8080", true},
	} {
		ok, why := Allowed(tt.auth, tt.listen)
		if ok != tt.want || (!ok && why == "") {
			t.Errorf("Allowed(%v, %q) = %v %q", tt.auth, tt.listen, ok, why)
		}
	}
}

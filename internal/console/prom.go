package console

import (
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Reading the instance's own Prometheus vectors: what /metrics exposes,
// without the text format in between.

// sample is one series of a vector: its labels and its value, or for a
// histogram its cumulative bucket counts (the last is the total count).
type sample struct {
	labels map[string]string
	value  float64
	bounds []float64
	cum    []float64
}

// gather collects every series of c.
func gather(c prometheus.Collector) []sample {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	var out []sample
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil {
			continue
		}
		s := sample{labels: map[string]string{}}
		for _, l := range d.GetLabel() {
			s.labels[l.GetName()] = l.GetValue()
		}
		switch {
		case d.Counter != nil:
			s.value = d.GetCounter().GetValue()
		case d.Gauge != nil:
			s.value = d.GetGauge().GetValue()
		case d.Histogram != nil:
			h := d.GetHistogram()
			for _, b := range h.GetBucket() {
				if math.IsInf(b.GetUpperBound(), 1) {
					continue
				}
				s.bounds = append(s.bounds, b.GetUpperBound())
				s.cum = append(s.cum, float64(b.GetCumulativeCount()))
			}
			s.cum = append(s.cum, float64(h.GetSampleCount()))
		}
		out = append(out, s)
	}
	return out
}

// key joins label values into a map key.
func key(parts ...string) string { return strings.Join(parts, "\x00") }

// rates turns cumulative counters into per-second rates between two
// samplings.
type rates struct {
	prev, next map[string]float64
	dt         float64 // seconds since the previous sampling (0: first)
}

func newRates() *rates { return &rates{prev: map[string]float64{}, next: map[string]float64{}} }

// begin starts a sampling dt after the previous one.
func (r *rates) begin(dt time.Duration) {
	r.prev, r.next = r.next, map[string]float64{}
	r.dt = dt.Seconds()
}

// rate records v for k and returns its rate since the last sampling (0
// the first time, and when the counter went back: it restarted).
func (r *rates) rate(k string, v float64) float64 {
	r.next[k] = v
	p, ok := r.prev[k]
	if !ok || r.dt <= 0 || v < p {
		return 0
	}
	return (v - p) / r.dt
}

// windows keep the last few snapshots of histograms, so percentiles
// describe the last seconds rather than the whole run.
type windows struct {
	size int
	seen map[string][][]float64 // key → snapshots, oldest first
	used map[string]bool
}

func newWindows(size int) *windows {
	return &windows{size: size, seen: map[string][][]float64{}, used: map[string]bool{}}
}

// observe adds the cumulative counts cum of k and returns the counts
// within the window: cum minus the oldest snapshot kept (all of cum for
// a series seen for the first time or restarted).
func (w *windows) observe(k string, cum []float64) []float64 {
	w.used[k] = true
	snaps := w.seen[k]
	if n := len(snaps); n > 0 && !grew(snaps[n-1], cum) {
		snaps = nil
	}
	snaps = append(snaps, cum)
	if len(snaps) > w.size+1 {
		snaps = snaps[len(snaps)-w.size-1:]
	}
	w.seen[k] = snaps
	d := append([]float64(nil), cum...)
	if len(snaps) > 1 {
		for i := range d {
			d[i] -= snaps[0][i]
		}
	}
	return d
}

// grew reports whether cum continues old: same buckets, none lower.
func grew(old, cum []float64) bool {
	if len(old) != len(cum) {
		return false
	}
	for i := range old {
		if cum[i] < old[i] {
			return false
		}
	}
	return true
}

// sweep forgets the series not observed since the last sweep.
func (w *windows) sweep() {
	for k := range w.seen {
		if !w.used[k] {
			delete(w.seen, k)
		}
	}
	w.used = map[string]bool{}
}

// add sums histograms of the same buckets into acc.
func add(acc, cum []float64) []float64 {
	if acc == nil {
		return append([]float64(nil), cum...)
	}
	for i := range acc {
		if i < len(cum) {
			acc[i] += cum[i]
		}
	}
	return acc
}

// quantile estimates the q-quantile of cumulative bucket counts cum
// (the last one the total) with upper bounds as Prometheus's
// histogram_quantile does: linearly within the bucket holding the rank.
// It returns 0 for no observations, and the largest bound when the rank
// is past it.
func quantile(q float64, bounds, cum []float64) float64 {
	if len(cum) == 0 || len(bounds) == 0 {
		return 0
	}
	total := cum[len(cum)-1]
	if total <= 0 {
		return 0
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, ub := range bounds {
		if cum[i] >= rank {
			inBucket := cum[i] - below
			if inBucket <= 0 {
				return ub
			}
			return lower + (ub-lower)*(rank-below)/inBucket
		}
		lower, below = ub, cum[i]
	}
	return bounds[len(bounds)-1]
}

// quantilesMS are p50, p90 and p99 in milliseconds of histograms in
// seconds.
func quantilesMS(bounds, cum []float64) Quantiles {
	ms := func(q float64) float64 { return math.Round(quantile(q, bounds, cum)*1e6) / 1e3 }
	return Quantiles{P50: ms(.5), P90: ms(.9), P99: ms(.99)}
}

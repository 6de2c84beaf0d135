package test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dqmhq/dqm/client"
)

// TestCacheReadYourWrites: a cache-tag query is answered from the cache
// the second time; a write through dqm to its table drops it before the
// writer's reply, so the next read sees the write.
func TestCacheReadYourWrites(t *testing.T) {
	s := start(t, testConfig(t))
	count := func() (float64, bool) {
		t.Helper()
		status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":3,"database":"demo"}`)
		if status != 200 || body["success"] != true {
			t.Fatalf("status %d body %v", status, body)
		}
		return body["rows"].([]any)[0].(map[string]any)["total"].(float64), body["cached"].(bool)
	}
	n, cached := count()
	if cached || n != 10000 {
		t.Fatalf("first read: %v cached=%v", n, cached)
	}
	if _, cached = count(); !cached {
		t.Fatal("second read not cached")
	}
	_, body, _ := call(t, s, "GET", "/api/conduit/status", "")
	if e := body["databases"].(map[string]any)["demo"].(map[string]any)["query_cache_entries"]; e != 1.0 {
		t.Errorf("query_cache_entries %v", e)
	}
	status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":104,"database":"demo","params":{"INTEGER":{"N":123456}}}`)
	if status != 200 || body["success"] != true {
		t.Fatalf("insert: %d %v", status, body)
	}
	n, cached = count()
	if cached || n != 10001 {
		t.Fatalf("after write: %v cached=%v", n, cached)
	}
}

// TestCacheHitLatency measures, through the Go client, a cached query's
// latency on a miss (through the queue to SQLite) and on a hit (answered
// in the ingress). It reports; it does not assert timings.
func TestCacheHitLatency(t *testing.T) {
	s := start(t, testConfig(t))
	ctx := context.Background()
	const n = 200
	measure := func(param func(i int) int) []time.Duration {
		d := make([]time.Duration, 0, n)
		for i := range n {
			start := time.Now()
			_, err := s.Client().Query(ctx, "demo", 2, ints("N", param(i)), client.Queue("fast"),
				client.CacheFor(time.Minute), client.Tables("numbers"))
			if err != nil {
				t.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d
	}
	miss := measure(func(i int) int { return i })     // every N new: all misses
	hit := measure(func(i int) int { return i % 10 }) // N 0..9 cached by the first run
	p := func(d []time.Duration, q float64) time.Duration {
		return d[int(q*float64(len(d)-1))].Round(time.Microsecond)
	}
	t.Logf("Go client, %d requests each: miss p50 %v p99 %v; hit p50 %v p99 %v", n, p(miss, .5), p(miss, .99), p(hit, .5), p(hit, .99))
	if st := s.Cache().Stats(); st.Hits < n {
		t.Fatalf("stats %+v", st)
	}
}

package test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/server"
)

// BenchmarkClientPointQuery is the Go client's point query on SQLite at
// the benchmark's concurrency, for profiling (`make bench` is the report).
func BenchmarkClientPointQuery(b *testing.B) {
	s := startBench(b)
	ctx := context.Background()
	p := ints("N", 42)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Client().Query(ctx, "demo", 2, p, client.Queue("fast")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchREST posts body to the instance's whole handler (middleware
// included, no network), for profiling the adapter's own work.
func benchREST(b *testing.B, s *server.Server, body string) {
	h := s.Handler()
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/conduit/query", strings.NewReader(body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("%d %s", w.Code, w.Body)
				return
			}
		}
	})
}

// BenchmarkRESTCacheHit is a REST query answered from the instance cache.
func BenchmarkRESTCacheHit(b *testing.B) {
	benchREST(b, startBench(b), `{"query_ref":3,"database":"demo","params":{}}`)
}

// BenchmarkRESTPointQuery is a REST point query through the fast queue.
func BenchmarkRESTPointQuery(b *testing.B) {
	benchREST(b, startBench(b), `{"query_ref":2,"database":"demo","params":{"INTEGER":{"N":42}}}`)
}

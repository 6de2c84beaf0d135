package server_test

import (
	"context"
	"testing"

	"github.com/dqmhq/dqm/ingress"
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
			if _, err := s.Client().Query(ctx, "demo", 2, p, ingress.Queue("fast")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

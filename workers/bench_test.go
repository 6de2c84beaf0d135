package workers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// BenchmarkHandleWrite is one idempotent write through the whole chain
// (fake engine keeping the record and outcome in memory, reply published
// to an inbox nobody reads): the record's body hash, the outcome stored
// in the transaction and the reply.
func BenchmarkHandleWrite(b *testing.B) {
	nc := testutil.Connect(b, testutil.NATS(b))
	cat, err := catalog.Compile("demo", "fake", params.Question, 5*time.Second, []catalog.Entry{
		{Ref: refWrite, Name: "write", SQL: "INSERT INTO numbers (n) VALUES (:N)", Queue: "fast"}})
	if err != nil {
		b.Fatal(err)
	}
	e := &fakeEngine{script: rows(`[{"n":1}]`, 1), applied: map[string]bool{}}
	w := New(Config{Database: "demo", Label: "DQM-Demo-01-F", Tags: []string{"fast"}, Engine: e,
		Catalog: func() *catalog.Catalog { return cat }, NC: nc, Source: "/dqm/bench", Metrics: metrics.New(),
		Idempotent: true, Invalidate: func(schemas.Invalidation) error { return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	m := queryMsg("bench", refWrite, "_INBOX.bench.1", time.Now().Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		w.handle(context.Background(), "fast", newFakeMsg(m))
		// Forgotten, so the next one is a first attempt, not a replay.
		delete(e.records, "bench")
		delete(e.applied, "bench")
	}
}

// BenchmarkBodyHash: a write's body hash from its canonical params
// (bodyHash) against the reflection it replaced (legacyBodyHash).
func BenchmarkBodyHash(b *testing.B) {
	raw := params.Raw{"INTEGER": {"N": json.RawMessage("42")}, "STRING": {"NAME": json.RawMessage(`"Ada"`)},
		"TIMESTAMP": {"AT": json.RawMessage(`"2026-12-01 10:00:00.5"`)}}
	vals, err := params.Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("canonical", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bodyHash(7, raw, vals)
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			legacyBodyHash(7, vals)
		}
	})
}

package workers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// BenchmarkPull is requests through a real stream and consumer: queued
// first, then pulled (a pull of 8), answered and acked by one worker.
func BenchmarkPull(b *testing.B) {
	nc := testutil.Connect(b, testutil.NATS(b))
	ctx := context.Background()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("demo"), Subjects: schemas.RequestSubjects("demo"),
		Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: schemas.ConsumerName("demo", "fast"),
		FilterSubject: schemas.RequestSubject("demo", "fast"), AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1000}); err != nil {
		b.Fatal(err)
	}
	cat, err := catalog.Compile("demo", "fake", params.Question, 5*time.Second, []catalog.Entry{
		{Ref: refRead, Name: "read", SQL: "SELECT n FROM numbers WHERE n = :N", Queue: "fast"}})
	if err != nil {
		b.Fatal(err)
	}
	w := New(Config{Database: "demo", Label: "DQM-Demo-01-F", Tags: []string{"fast"}, Stream: st,
		Engine:  &fakeEngine{script: rows(`[{"n":1}]`, 1), applied: map[string]bool{}},
		Catalog: func() *catalog.Catalog { return cat }, NC: nc, Source: "/dqm/bench", Metrics: metrics.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// 64 requests a round: queued, then all answered.
		for range 64 {
			i++
			if _, err := js.PublishMsgAsync(queryMsg(strconv.Itoa(i), refRead, inbox, time.Time{})); err != nil {
				b.Fatal(err)
			}
		}
		for range 64 {
			<-replies
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/request")
}

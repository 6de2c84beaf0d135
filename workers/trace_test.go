package workers

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestTraceSpans: with a Tracer, a request with a traceparent gets a queue
// wait span (ce-time to the pull) and an execution span, both children of
// the requester's span; one without starts its trace at the queue wait.
// The reply carries the request's traceparent back.
func TestTraceSpans(t *testing.T) {
	h := newHarness(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	h.w.cfg.Tracer = tp.Tracer("test")

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	m := queryMsg("traced", refRead, "_INBOX.t.1", time.Time{})
	m.Header.Set(schemas.HeaderTime, time.Now().Add(-50*time.Millisecond).UTC().Format(time.RFC3339Nano))
	m.Header.Set(schemas.HeaderTraceParent, parent)
	_, out := h.handle(m)
	if r, _ := reply(t, out, "_INBOX.t.1"); r.Header.Get(schemas.HeaderTraceParent) != parent {
		t.Fatalf("reply headers %v", r.Header)
	}
	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Name() != "dqm.queue_wait" || spans[1].Name() != "dqm.execute" {
		t.Fatalf("spans %v", spans)
	}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
			t.Fatalf("%s: trace %s parent %s", s.Name(), s.SpanContext().TraceID(), s.Parent().SpanID())
		}
	}
	if q := spans[0]; q.EndTime().Sub(q.StartTime()) < 50*time.Millisecond {
		t.Fatalf("queue wait %v, want it to start at ce-time", q.EndTime().Sub(q.StartTime()))
	}

	_, out = h.handle(queryMsg("root", refRead, "_INBOX.t.2", time.Time{}))
	reply(t, out, "_INBOX.t.2")
	spans = rec.Ended()[2:]
	if len(spans) != 2 || spans[0].Parent().IsValid() || spans[1].Parent().SpanID() != spans[0].SpanContext().SpanID() {
		t.Fatalf("no trace context: queue wait is the root, execution its child: %v", spans)
	}
}

// BenchmarkHandle is one request through the whole chain (fake engine,
// reply published to an inbox nobody reads), tracing off.
func BenchmarkHandle(b *testing.B) {
	nc := testutil.Connect(b, testutil.NATS(b))
	cat, err := catalog.Compile("demo", "fake", params.Question, 5*time.Second, []catalog.Entry{
		{Ref: refRead, Name: "read", SQL: "SELECT n FROM numbers WHERE n = :N", Queue: "fast"}})
	if err != nil {
		b.Fatal(err)
	}
	w := New(Config{Database: "demo", Label: "DQM-Demo-01-F", Tags: []string{"fast"},
		Engine:  &fakeEngine{script: rows(`[{"n":1}]`, 1), applied: map[string]bool{}},
		Catalog: func() *catalog.Catalog { return cat }, NC: nc, Source: "/dqm/bench", Metrics: metrics.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	m := queryMsg("bench", refRead, "_INBOX.bench.1", time.Now().Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		w.handle(context.Background(), "fast", newFakeMsg(m))
	}
}

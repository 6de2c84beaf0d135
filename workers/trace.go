package workers

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/internal/tracing"
)

// trace puts the request's trace context (ce-traceparent) on ctx, so that
// every line logged after it carries trace_id (tracing.LogHandler), and
// logs one debug line per request with its outcome. With tracing on
// (Config.Tracer) it records two spans: the queue wait, from ce-time to
// the pull (a span with explicit start and end times), and the execution,
// from the pull to the reply. Both are children of the requester's span;
// a request without trace context starts its trace at the queue wait, and
// the execution follows from it.
func (w *Worker) trace(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		ctx = tracing.Extract(ctx, r.event.TraceParent, r.event.TraceState)
		t := w.cfg.Tracer
		if t == nil {
			res := next(ctx, r)
			w.answered(ctx, r, res)
			return res
		}
		if !r.event.Time.IsZero() && r.event.Time.Before(r.pulled) {
			qctx, q := t.Start(ctx, "dqm.queue_wait", trace.WithTimestamp(r.event.Time), trace.WithSpanKind(trace.SpanKindConsumer))
			if q.IsRecording() {
				q.SetAttributes(w.spanAttrs(r)...)
			}
			q.End(trace.WithTimestamp(r.pulled))
			if !trace.SpanContextFromContext(ctx).IsValid() {
				ctx = qctx
			}
		}
		ctx, span := t.Start(ctx, "dqm.execute", trace.WithTimestamp(r.pulled), trace.WithSpanKind(trace.SpanKindConsumer))
		res := next(ctx, r)
		if span.IsRecording() {
			span.SetAttributes(w.spanAttrs(r)...)
			if res.reply != nil {
				span.SetAttributes(attribute.Int("dqm.status", res.reply.Status), attribute.Bool("dqm.success", res.reply.Success))
				if !res.reply.Success {
					span.SetStatus(codes.Error, string(res.reply.Error))
				}
			}
			if res.reason != "" {
				span.SetAttributes(attribute.String("dqm.settle_reason", res.reason))
			}
		}
		span.End()
		w.answered(ctx, r, res)
		return res
	}
}

func (w *Worker) spanAttrs(r *request) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.destination.name", r.msg.Subject()),
		attribute.String("messaging.message.id", r.event.ID),
		attribute.String("dqm.database", w.cfg.Database),
		attribute.String("dqm.queue", r.tag),
		attribute.String("dqm.label", w.cfg.Label),
		attribute.Int64("dqm.query_ref", r.event.Data.QueryRef),
		attribute.Bool("dqm.structured", r.event.Structured),
	}
}

// answered is the request's debug line (with trace_id when it has one).
func (w *Worker) answered(ctx context.Context, r *request, res *result) {
	if !w.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	status := 0
	if res.reply != nil {
		status = res.reply.Status
	}
	w.log.DebugContext(ctx, "request handled", "request_id", r.event.ID, "ref", r.event.Data.QueryRef, "tag", r.tag,
		"status", status, "settle", res.settle, "reason", res.reason)
}

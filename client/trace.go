package client

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/schemas"
)

// WithTracer records a span for every Query (nil, the default: none). The
// trace context of a Query's ctx rides on the request as ce-traceparent
// and ce-tracestate either way.
func WithTracer(t trace.Tracer) Option { return func(c *Client) { c.tracer = t } }

// traced is Query inside its span: a producer span whose context the
// request carries, so the worker's spans are its children.
func (c *Client) traced(ctx context.Context, db string, ref int64, p schemas.Params, q query) (*cache.Answer, error) {
	ctx, span := c.tracer.Start(ctx, "dqm.query", trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	a, err := c.answer(ctx, db, ref, p, q)
	res := &a.Result
	if span.IsRecording() {
		span.SetAttributes(attribute.String("messaging.system", "nats"),
			attribute.String("messaging.destination.name", schemas.RequestSubject(db, q.tag)),
			attribute.String("dqm.database", db), attribute.Int64("dqm.query_ref", ref), attribute.String("dqm.queue", q.tag))
		span.SetAttributes(attribute.Bool("dqm.cached", res.Cached), attribute.Bool("dqm.success", res.Success))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	return a, err
}

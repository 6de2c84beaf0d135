package ingress

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/schemas"
)

// WithTracer records a span for every Query (nil, the default: none). The
// trace context of a Query's ctx rides on the request as ce-traceparent
// and ce-tracestate either way.
func WithTracer(t trace.Tracer) ClientOption { return func(c *Client) { c.tracer = t } }

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

// TraceHTTP wraps the REST adapter: it reads the W3C traceparent and
// tracestate headers of a request into its context (so the queries it
// sends carry them) and echoes the trace context in the response's
// traceparent header. With t set (tracing on) each /api/ request also gets
// a server span, named by its route, whose context is the one echoed and
// sent on. With t nil and no traceparent, it adds nothing.
func TraceHTTP(t trace.Tracer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		traced := t != nil && strings.HasPrefix(req.URL.Path, "/api/")
		// "Traceparent" is canonical already: Get does not allocate.
		if !traced && req.Header.Get("Traceparent") == "" {
			h.ServeHTTP(w, req)
			return
		}
		ctx := tracing.W3C.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
		if !traced {
			tracing.W3C.Inject(ctx, propagation.HeaderCarrier(w.Header()))
			h.ServeHTTP(w, req.WithContext(ctx))
			return
		}
		ctx, span := t.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		tracing.W3C.Inject(ctx, propagation.HeaderCarrier(w.Header()))
		sw := &spanWriter{ResponseWriter: w, status: http.StatusOK}
		req = req.WithContext(ctx)
		h.ServeHTTP(sw, req)
		if !span.IsRecording() {
			return
		}
		// The mux sets the pattern on the request it is given: this one.
		if req.Pattern != "" {
			span.SetName(req.Method + " " + strings.TrimPrefix(req.Pattern, req.Method+" "))
			span.SetAttributes(attribute.String("http.route", req.Pattern))
		}
		span.SetAttributes(attribute.String("http.request.method", req.Method),
			attribute.String("url.path", req.URL.Path), attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

type spanWriter struct {
	http.ResponseWriter
	status int
}

func (w *spanWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes of
// the console's event streams).
func (w *spanWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

package ingress

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/internal/tracing"
)

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
		sw := NewStatusWriter(w)
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
			attribute.String("url.path", req.URL.Path), attribute.Int("http.response.status_code", sw.Status))
		if sw.Status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.Status))
		}
	})
}

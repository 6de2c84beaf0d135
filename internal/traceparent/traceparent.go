package traceparent

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// W3C is the propagator of trace context on HTTP (traceparent,
// tracestate) and, through Extract and Inject, on requests.
var W3C propagation.TraceContext

// pair carries a request's trace context through W3C.
type pair struct{ parent, state string }

func (p *pair) Get(key string) string {
	switch key {
	case "traceparent":
		return p.parent
	case "tracestate":
		return p.state
	}
	return ""
}

func (p *pair) Set(key, value string) {
	switch key {
	case "traceparent":
		p.parent = value
	case "tracestate":
		p.state = value
	}
}

func (p *pair) Keys() []string { return []string{"traceparent", "tracestate"} }

// Extract returns ctx carrying the remote span context of a request's
// traceparent and tracestate; ctx itself when there is none (the common,
// allocation-free case).
func Extract(ctx context.Context, parent, state string) context.Context {
	if parent == "" {
		return ctx
	}
	return W3C.Extract(ctx, &pair{parent, state})
}

// Inject returns the traceparent and tracestate of ctx's span context, ""
// when it has none.
func Inject(ctx context.Context) (parent, state string) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return "", ""
	}
	var p pair
	W3C.Inject(ctx, &p)
	return p.parent, p.state
}

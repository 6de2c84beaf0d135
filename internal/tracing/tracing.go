package tracing

import (
	"context"

	"fmt"
	"log/slog"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/dqmhq/dqm/internal/traceparent"
)

// Name is the instrumentation scope of dqm's spans.
const Name = "github.com/dqmhq/dqm"

// Options configure the provider (config tracing.*).
type Options struct {
	// Endpoint is the OTLP/HTTP collector's base URL, e.g.
	// http://127.0.0.1:4318 (spans go to /v1/traces unless the URL has a
	// path of its own); "" turns tracing off.
	Endpoint string
	// SampleRatio is the share of new traces sampled (0..1); a request
	// that arrives with a sampled parent follows its parent's decision.
	SampleRatio float64
	// Instance is the service.instance.id of the spans.
	Instance string
}

// Provider is the tracer provider and its shutdown.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider // nil when tracing is off
}

// Off is the no-op provider: spans are never recorded or exported.
func Off() *Provider { return &Provider{TracerProvider: noop.NewTracerProvider()} }

// New returns the provider for opts: Off when opts.Endpoint is "", else
// one that batches spans to the collector over OTLP/HTTP (protobuf).
func New(opts Options) (*Provider, error) {
	if opts.Endpoint == "" {
		return Off(), nil
	}
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracing.otlp_endpoint %q: want an http:// or https:// URL", opts.Endpoint)
	}
	eo := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host)}
	if u.Scheme == "http" {
		eo = append(eo, otlptracehttp.WithInsecure())
	}
	if u.Path != "" && u.Path != "/" {
		eo = append(eo, otlptracehttp.WithURLPath(u.Path))
	}
	// New does not dial: the exporter connects when it first sends.
	exp, err := otlptracehttp.New(context.Background(), eo...)
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "dqm"), attribute.String("service.instance.id", opts.Instance))
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))),
	)
	return &Provider{TracerProvider: sdk, sdk: sdk}, nil
}

// Enabled reports whether spans may be recorded: callers skip starting
// spans (and building their attributes) when it is false.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Tracer is dqm's tracer, or nil when tracing is off.
func (p *Provider) Tracer() trace.Tracer {
	if !p.Enabled() {
		return nil
	}
	return p.TracerProvider.Tracer(Name)
}

// Shutdown exports the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// ForceFlush exports the spans buffered so far (tests, shutdown).
func (p *Provider) ForceFlush(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.sdk.ForceFlush(ctx)
}

// W3C is the propagator of trace context on HTTP (traceparent,
// tracestate); Extract and Inject use it on requests.
var W3C = traceparent.W3C

// Extract returns ctx carrying the remote span context of a request's
// traceparent and tracestate (traceparent.Extract).
func Extract(ctx context.Context, parent, state string) context.Context {
	return traceparent.Extract(ctx, parent, state)
}

// Inject returns the traceparent and tracestate of ctx's span context
// (traceparent.Inject).
func Inject(ctx context.Context) (parent, state string) { return traceparent.Inject(ctx) }

// TraceID is ctx's trace id in hex, "" when it has none.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// LogHandler adds trace_id to every record logged with a context that
// carries a span context (slog's *Context methods); others pass as they
// are.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(logHandler); ok {
		return h
	}
	return logHandler{h}
}

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(as)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }

// Package tracing is dqm's OpenTelemetry plumbing: the tracer provider
// (OTLP/HTTP when tracing.otlp_endpoint is set, otherwise a no-op one that
// costs nothing), the W3C trace context as it rides on a request (the
// CloudEvents distributed-tracing extension, ce-traceparent and
// ce-tracestate) and a slog handler that adds trace_id to every line
// logged with a traced context. It names no dqm component: ingress, the
// workers and the lead start their own spans with the Tracer they are
// given.
package tracing

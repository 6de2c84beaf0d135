// Package traceparent carries the W3C trace context of a request: the
// CloudEvents distributed-tracing extension (ce-traceparent,
// ce-tracestate) read into a context and written from one. It uses only
// the OpenTelemetry API, so the Go client can carry a caller's trace
// without linking the SDK (internal/tracing holds the provider).
package traceparent

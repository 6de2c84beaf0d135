package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestExtractInject(t *testing.T) {
	ctx := context.Background()
	if Extract(ctx, "", "") != ctx {
		t.Fatal("no traceparent: the same context")
	}
	if p, s := Inject(ctx); p != "" || s != "" {
		t.Fatalf("no span context: %q %q", p, s)
	}
	tctx := Extract(ctx, parent, "a=1")
	if p, s := Inject(tctx); p != parent || s != "a=1" {
		t.Fatalf("round trip: %q %q", p, s)
	}
	if TraceID(tctx) != "4bf92f3577b34da6a3ce929d0e0e4736" || TraceID(ctx) != "" {
		t.Fatal("trace id")
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("db", "demo")
	log.InfoContext(Extract(context.Background(), parent, ""), "traced")
	log.Info("plain")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "trace_id=4bf92f3577b34da6a3ce929d0e0e4736") ||
		!strings.Contains(lines[0], "db=demo") || strings.Contains(lines[1], "trace_id") {
		t.Fatalf("%q", lines)
	}
	if h := LogHandler(slog.NewTextHandler(&buf, nil)); LogHandler(h) != h {
		t.Fatal("wrapping twice adds trace_id twice")
	}
}

func TestNew(t *testing.T) {
	p, err := New(Options{})
	if err != nil || p.Enabled() || p.Tracer() != nil || p.Shutdown(context.Background()) != nil {
		t.Fatalf("off: %v", err)
	}
	for _, bad := range []string{"127.0.0.1:4318", "ftp://x", "http://"} {
		if _, err := New(Options{Endpoint: bad, SampleRatio: 1}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p, err = New(Options{Endpoint: "http://127.0.0.1:1/custom/path", SampleRatio: 1, Instance: "i"})
	if err != nil || !p.Enabled() || p.Tracer() == nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	p.Shutdown(ctx) // nothing buffered; an unreachable collector does not block
}

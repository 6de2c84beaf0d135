package traceparent

import (
	"context"
	"testing"
)

func TestExtractInject(t *testing.T) {
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := context.Background()
	if Extract(ctx, "", "") != ctx {
		t.Fatal("no traceparent: the same context")
	}
	if p, s := Inject(ctx); p != "" || s != "" {
		t.Fatalf("no span context: %q %q", p, s)
	}
	if p, s := Inject(Extract(ctx, parent, "a=1")); p != parent || s != "a=1" {
		t.Fatalf("round trip: %q %q", p, s)
	}
	if p, _ := Inject(Extract(ctx, "00-bad", "")); p != "" {
		t.Fatalf("a malformed traceparent is dropped: %q", p)
	}
}

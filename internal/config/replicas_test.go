package config

import (
	"strings"
	"testing"
)

func TestReplicas(t *testing.T) {
	if c := mustParse(t, `{"nats": {"replicas": 3}}`, nil); c.NATS.Replicas != 3 {
		t.Fatalf("replicas = %d, want 3", c.NATS.Replicas)
	}
	_, err := Parse([]byte(`{"nats": {"replicas": 2}}`), nil)
	if err == nil || !strings.Contains(err.Error(), "nats.replicas") || !strings.Contains(err.Error(), "want 1, 3 or 5") {
		t.Fatalf("replicas 2: %v", err)
	}
}

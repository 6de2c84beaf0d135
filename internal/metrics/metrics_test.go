package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	m := New()
	m.Observe("demo", "fast", "", time.Millisecond, 2*time.Millisecond)
	m.Observe("demo", "fast", "timeout", 0, time.Second)
	m.SetState("demo", "CONNECTED")
	m.Reject("demo", "reply_subject")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`dqm_requests_total{db="demo",outcome="ok",tag="fast"} 1`,
		`dqm_requests_total{db="demo",outcome="timeout",tag="fast"} 1`,
		`dqm_queue_wait_seconds_count{db="demo",tag="fast"} 1`,
		`dqm_execution_seconds_count{db="demo",tag="fast"} 2`,
		`dqm_connection_state{db="demo",state="CONNECTED"} 1`,
		`dqm_connection_state{db="demo",state="ERROR"} 0`,
		`dqm_requests_rejected_total{db="demo",reason="reply_subject"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %s", want)
		}
	}
	// Two instances in one process do not share a registry.
	if New().reg == m.reg {
		t.Fatal("shared registry")
	}
}

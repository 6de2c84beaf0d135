package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/schemas"
)

// callKey is call with an Idempotency-Key header (none when key is nil).
func callKey(t *testing.T, s *server.Server, path, body string, key *string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+s.HTTPAddr()+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		req.Header["Idempotency-Key"] = []string{*key}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("POST %s: body is not JSON: %v: %s", path, err, raw)
	}
	return resp.StatusCode, m
}

func total(t *testing.T, s *server.Server) float64 {
	t.Helper()
	_, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":1,"database":"demo"}`)
	return body["rows"].([]any)[0].(map[string]any)["total"].(float64)
}

// TestRESTIdempotencyKey: a write POSTed twice with one Idempotency-Key
// runs once and the retry gets the first outcome; the same key with other
// params is 422 idempotency_mismatch; a bad key or a key on a batch is
// 400; a read with a key just runs.
func TestRESTIdempotencyKey(t *testing.T) {
	s := start(t, testConfig(t))
	key := "order-7f3a"
	write := func(n int) string {
		return fmt.Sprintf(`{"query_ref":104,"database":"demo","params":{"INTEGER":{"N":%d}}}`, n)
	}
	status, first := callKey(t, s, "/api/conduit/query", write(888888), &key)
	if status != 200 || first["success"] != true {
		t.Fatalf("first: %d %v", status, first)
	}
	status, again := callKey(t, s, "/api/conduit/query", write(888888), &key)
	if status != 200 || again["success"] != true || !strings.Contains(fmt.Sprint(again["message"]), "replay") {
		t.Fatalf("retry: %d %v", status, again)
	}
	if fmt.Sprint(again["affected_rows"]) != fmt.Sprint(first["affected_rows"]) || fmt.Sprint(first["affected_rows"]) != "[1]" {
		t.Fatalf("retry affected_rows %v, first %v", again["affected_rows"], first["affected_rows"])
	}
	if n := total(t, s); n != 10001 {
		t.Fatalf("rows after a write and its retry: %v", n)
	}
	status, other := callKey(t, s, "/api/conduit/query", write(888889), &key)
	if status != 422 || other["error"] != string(schemas.CodeIdempotencyMismatch) {
		t.Fatalf("same key, other params: %d %v", status, other)
	}
	if n := total(t, s); n != 10001 {
		t.Fatalf("a mismatched retry ran: %v rows", n)
	}
	// Another key is another write.
	key2 := "order-7f3b"
	if status, body := callKey(t, s, "/api/conduit/query", write(888889), &key2); status != 200 || body["success"] != true {
		t.Fatalf("another key: %d %v", status, body)
	}
	// A read with a key: its id, no record; it answers every time.
	for range 2 {
		if status, body := callKey(t, s, "/api/conduit/query", `{"query_ref":1,"database":"demo"}`, &key); status != 200 || body["success"] != true {
			t.Fatalf("read with a key: %d %v", status, body)
		}
	}
	for _, bad := range []string{"", strings.Repeat("k", 256), "a\tb"} {
		if status, body := callKey(t, s, "/api/conduit/query", write(1), &bad); status != 400 || body["error"] != "bad_request" {
			t.Errorf("key %q: %d %v", bad, status, body)
		}
	}
	long := strings.Repeat("k", 255)
	if status, body := callKey(t, s, "/api/conduit/query", write(888890), &long); status != 200 {
		t.Errorf("a key of 255 bytes: %d %v", status, body)
	}
	batch := `{"database":"demo","queries":[{"query_ref":1}]}`
	if status, body := callKey(t, s, "/api/conduit/queries", batch, &key); status != 400 || body["error"] != "bad_request" {
		t.Errorf("a batch with a key: %d %v", status, body)
	}
	if n := total(t, s); n != 10003 {
		t.Fatalf("rows: %v, want 10003", n)
	}
}

// TestIdempotencyKeyScope: one key is one request id per database and
// caller, and the id fits a reply subject whatever the key.
func TestIdempotencyKeyScope(t *testing.T) {
	a := ingress.KeyRequestID("demo", "public", "k")
	for _, other := range []string{
		ingress.KeyRequestID("other", "public", "k"),
		ingress.KeyRequestID("demo", "sub:alice", "k"),
		ingress.KeyRequestID("demo", "public", "k2"),
	} {
		if other == a {
			t.Fatalf("two scopes share the id %s", a)
		}
	}
	if a != ingress.KeyRequestID("demo", "public", "k") || len(a) != 34 || !strings.HasPrefix(a, "k-") {
		t.Fatalf("id %q: want a stable k- and 32 hex digits", a)
	}
}

// TestRequestIDRetryAfterConsumed: a Go client retrying a RequestID whose
// first message was already consumed (JetStream still remembers its
// Nats-Msg-Id) is answered: a write from its record, a read by running.
func TestRequestIDRetryAfterConsumed(t *testing.T) {
	s := start(t, testConfig(t))
	cl, err := client.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := ints("N", 999001)
	first, err := cl.Query(ctx, "demo", 104, p, client.RequestID("go-retry-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := cl.Query(ctx, "demo", 104, p, client.RequestID("go-retry-1"))
	if err != nil || !strings.Contains(again.Message, "replay") || fmt.Sprint(again.AffectedRows) != fmt.Sprint(first.AffectedRows) {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	if _, err := cl.Query(ctx, "demo", 104, ints("N", 999002), client.RequestID("go-retry-1")); schemas.CodeOf(err) != schemas.CodeIdempotencyMismatch {
		t.Fatalf("another body: %v", err)
	}
	for range 2 {
		if _, err := cl.Query(ctx, "demo", 1, nil, client.RequestID("go-read-1")); err != nil {
			t.Fatalf("read retry: %v", err)
		}
	}
	if n := total(t, s); n != 10001 {
		t.Fatalf("rows: %v", n)
	}
}

// TestIdempotencyKeyConcurrent: the same key sent several times at once
// (a client that retried before the first answer came) is one write, and
// every attempt gets its outcome.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	s := start(t, testConfig(t))
	key := "same-time"
	body := `{"query_ref":104,"database":"demo","params":{"INTEGER":{"N":777001}}}`
	const n = 6
	type answer struct {
		status int
		body   map[string]any
	}
	out := make(chan answer, n)
	for range n {
		go func() {
			req, _ := http.NewRequest("POST", "http://"+s.HTTPAddr()+"/api/conduit/query", strings.NewReader(body))
			req.Header.Set("Idempotency-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				out <- answer{}
				return
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			out <- answer{resp.StatusCode, m}
		}()
	}
	for range n {
		if a := <-out; a.status != 200 || a.body["success"] != true || fmt.Sprint(a.body["affected_rows"]) != "[1]" {
			t.Errorf("attempt: %d %v", a.status, a.body)
		}
	}
	if got := total(t, s); got != 10001 {
		t.Fatalf("rows after %d attempts of one key: %v", n, got)
	}
}

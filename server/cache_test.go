package server_test

import (
	"testing"
)

// TestCacheReadYourWrites: a cache-tag query is answered from the cache
// the second time; a write through dqm to its table drops it before the
// writer's reply, so the next read sees the write.
func TestCacheReadYourWrites(t *testing.T) {
	s := start(t, testConfig(t))
	count := func() (float64, bool) {
		t.Helper()
		status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":3,"database":"demo"}`)
		if status != 200 || body["success"] != true {
			t.Fatalf("status %d body %v", status, body)
		}
		return body["rows"].([]any)[0].(map[string]any)["total"].(float64), body["cached"].(bool)
	}
	n, cached := count()
	if cached || n != 10000 {
		t.Fatalf("first read: %v cached=%v", n, cached)
	}
	if _, cached = count(); !cached {
		t.Fatal("second read not cached")
	}
	_, body, _ := call(t, s, "GET", "/api/conduit/status", "")
	if e := body["databases"].(map[string]any)["demo"].(map[string]any)["query_cache_entries"]; e != 1.0 {
		t.Errorf("query_cache_entries %v", e)
	}
	status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":104,"database":"demo","params":{"INTEGER":{"N":123456}}}`)
	if status != 200 || body["success"] != true {
		t.Fatalf("insert: %d %v", status, body)
	}
	n, cached = count()
	if cached || n != 10001 {
		t.Fatalf("after write: %v cached=%v", n, cached)
	}
}

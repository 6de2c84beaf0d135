package test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestREST(t *testing.T) {
	s := start(t, testConfig(t))
	big := `{"query_ref":55,"database":"demo","params":{"STRING":{"X":"` + strings.Repeat("x", 1<<20) + `"}}}`
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     map[string]any // top-level fields that must match
	}{
		{"success", "POST", "/api/conduit/query", `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":500,"FINISH":600}}}`,
			200, map[string]any{"success": true, "row_count": 101.0, "column_count": 1.0, "queue_used": "slow", "cached": false}},
		{"unknown database", "POST", "/api/conduit/query", `{"query_ref":55,"database":"nope","params":{}}`,
			400, map[string]any{"success": false, "error": "invalid_database", "message": "Invalid database selection"}},
		{"unknown ref", "POST", "/api/conduit/query", `{"query_ref":999,"database":"demo"}`,
			200, map[string]any{"success": false, "error": "query_not_found", "message": "queryref not found or not public"}},
		{"private ref on public endpoint", "POST", "/api/conduit/query", `{"query_ref":4,"database":"demo"}`,
			200, map[string]any{"success": false, "error": "query_not_found"}},
		{"missing param", "POST", "/api/conduit/query", `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1}}}`,
			400, map[string]any{"success": false, "error": "bad_params"}},
		{"wrong type", "POST", "/api/conduit/query", `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":"a","FINISH":2}}}`,
			400, map[string]any{"success": false, "error": "bad_params"}},
		{"bad json", "POST", "/api/conduit/query", `{"query_ref":55,`, 400, map[string]any{"error": "bad_request"}},
		{"wrong field type", "POST", "/api/conduit/query", `{"query_ref":"55","database":"demo"}`, 400, map[string]any{"error": "bad_request"}},
		{"missing field", "POST", "/api/conduit/query", `{"database":"demo"}`, 400, map[string]any{"error": "bad_request"}},
		{"wrong method", "GET", "/api/conduit/query", ``, 405, map[string]any{"error": "method_not_allowed"}},
		{"too large", "POST", "/api/conduit/query", big, 413, map[string]any{"error": "too_large"}},
		{"database error", "POST", "/api/conduit/query", `{"query_ref":100,"database":"demo"}`,
			422, map[string]any{"success": false, "error": "database_error"}},
		{"timeout", "POST", "/api/conduit/query", `{"query_ref":101,"database":"demo"}`,
			408, map[string]any{"success": false, "error": "timeout"}},
		{"unknown path", "GET", "/api/nope", ``, 404, map[string]any{"error": "not_found"}},
		{"healthz", "GET", "/healthz", ``, 200, map[string]any{"success": true}},
		{"readyz", "GET", "/readyz", ``, 200, map[string]any{"success": true}},
		{"seed path", "GET", "/api/query/demo/55/auto/" + url.PathEscape(`{"INTEGER":{"START":1,"FINISH":3}}`), ``,
			200, map[string]any{"success": true, "row_count": 3.0, "queue_used": "slow"}},
		{"seed path explicit queue", "GET", "/api/query/demo/2/fast/" + url.PathEscape(`{"INTEGER":{"N":7}}`), ``,
			200, map[string]any{"success": true, "row_count": 1.0, "queue_used": "fast"}},
		{"seed path bad queue", "GET", "/api/query/demo/2/turbo/-", ``, 400, map[string]any{"error": "bad_request"}},
		{"seed path bad params", "GET", "/api/query/demo/2/fast/notjson", ``, 400, map[string]any{"error": "bad_request"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, _ := call(t, s, c.method, c.path, c.body)
			if status != c.status {
				t.Errorf("status %d, want %d; body %v", status, c.status, body)
			}
			for k, v := range c.want {
				if body[k] != v {
					t.Errorf("%s = %#v, want %#v (body %v)", k, body[k], v, body)
				}
			}
		})
	}
}

func TestRESTRows(t *testing.T) {
	s := start(t, testConfig(t))
	_, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":500,"FINISH":600}}}`)
	rows := body["rows"].([]any)
	if len(rows) != 101 || rows[0].(map[string]any)["numbers"] != 500.0 || rows[100].(map[string]any)["numbers"] != 600.0 {
		t.Fatalf("rows: %v", rows)
	}
	_, body, _ = call(t, s, "POST", "/api/conduit/query", `{"query_ref":102,"database":"demo","params":{
		"INTEGER":{"I":9007199254740993},"FLOAT":{"F":1.5},"STRING":{"S":"it's \"quoted\" ✓"},"TEXT":{"T":"line\nbreak"},
		"BOOLEAN":{"B":true},"DATE":{"D":"2024-02-29"},"TIME":{"TM":"13:14:15"},"DATETIME":{"DT":"2024-02-29 13:14:15"},
		"TIMESTAMP":{"TS":"2024-02-29 13:14:15.123456"}}}`)
	row := body["rows"].([]any)[0].(map[string]any)
	want := map[string]any{"i": "9007199254740993", "f": 1.5, "s": `it's "quoted" ✓`, "t": "line\nbreak", "b": 1.0,
		"d": "2024-02-29", "tm": "13:14:15", "dt": "2024-02-29 13:14:15", "ts": "2024-02-29 13:14:15.123456"}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %#v, want %#v", k, row[k], v)
		}
	}
	// A string param is bound: SQL in it is data, not code.
	_, body, _ = call(t, s, "POST", "/api/conduit/query", `{"query_ref":103,"database":"demo","params":{"STRING":{"S":"1' OR '1'='1"}}}`)
	if n := body["rows"].([]any)[0].(map[string]any)["n"]; n != 0.0 {
		t.Errorf("injection probe matched %v rows", n)
	}
	// Unused values are reported, and the query still runs.
	_, body, _ = call(t, s, "POST", "/api/conduit/query", `{"query_ref":2,"database":"demo","params":{"INTEGER":{"N":3,"EXTRA":4}}}`)
	if body["success"] != true || !strings.Contains(fmt.Sprint(body["message"]), "EXTRA") {
		t.Errorf("unused param: %v", body)
	}
	// Writes report affected rows.
	_, body, _ = call(t, s, "POST", "/api/conduit/query", `{"query_ref":104,"database":"demo","params":{"INTEGER":{"N":20000}}}`)
	if fmt.Sprint(body["affected_rows"]) != "[1]" {
		t.Errorf("insert: %v", body)
	}
}

func TestRESTBatch(t *testing.T) {
	s := start(t, testConfig(t))
	q := func(ref int, n int) string {
		return fmt.Sprintf(`{"query_ref":%d,"params":{"INTEGER":{"N":%d}}}`, ref, n)
	}
	t.Run("dedupe and order", func(t *testing.T) {
		status, body, _ := call(t, s, "POST", "/api/conduit/queries",
			`{"database":"demo","queries":[`+q(2, 1)+`,`+q(2, 2)+`,`+q(2, 1)+`,{"query_ref":999}]}`)
		if status != 200 || body["success"] != false {
			t.Fatalf("status %d body %v", status, body)
		}
		res := body["results"].([]any)
		if len(res) != 4 {
			t.Fatalf("results: %v", res)
		}
		for i, want := range []any{1.0, 2.0, 1.0} {
			r := res[i].(map[string]any)
			if r["status"] != 200.0 || r["rows"].([]any)[0].(map[string]any)["numbers"] != want {
				t.Errorf("result %d: %v", i, r)
			}
		}
		if r := res[3].(map[string]any); r["error"] != "query_not_found" || r["status"] != 200.0 {
			t.Errorf("result 3: %v", r)
		}
	})
	t.Run("duplicates count once toward the limit", func(t *testing.T) {
		var qs []string
		for range 15 {
			qs = append(qs, q(2, 1))
		}
		status, body, _ := call(t, s, "POST", "/api/conduit/queries", `{"database":"demo","queries":[`+strings.Join(qs, ",")+`]}`)
		if status != 200 || body["success"] != true || len(body["results"].([]any)) != 15 {
			t.Fatalf("status %d body %v", status, body)
		}
	})
	t.Run("too many", func(t *testing.T) {
		var qs []string
		for i := range 11 {
			qs = append(qs, q(2, i))
		}
		status, body, h := call(t, s, "POST", "/api/conduit/queries", `{"database":"demo","queries":[`+strings.Join(qs, ",")+`]}`)
		if status != 429 || body["error"] != "too_many" || h.Get("Retry-After") == "" {
			t.Fatalf("status %d body %v", status, body)
		}
	})
	t.Run("empty", func(t *testing.T) {
		status, body, _ := call(t, s, "POST", "/api/conduit/queries", `{"database":"demo","queries":[]}`)
		if status != 200 || body["success"] != false || body["message"] == nil {
			t.Fatalf("status %d body %v", status, body)
		}
	})
	t.Run("bad params fail the whole batch", func(t *testing.T) {
		status, body, _ := call(t, s, "POST", "/api/conduit/queries", `{"database":"demo","queries":[`+q(2, 1)+`,{"query_ref":2,"params":{}}]}`)
		if status != 400 || body["error"] != "bad_params" || !strings.Contains(fmt.Sprint(body["message"]), "queries[1]") {
			t.Fatalf("status %d body %v", status, body)
		}
	})
	t.Run("unknown database", func(t *testing.T) {
		status, body, _ := call(t, s, "POST", "/api/conduit/queries", `{"database":"nope","queries":[`+q(2, 1)+`]}`)
		if status != 400 || body["error"] != "invalid_database" {
			t.Fatalf("status %d body %v", status, body)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		status, body, _ := call(t, s, "POST", "/api/conduit/queries", `{"database":"demo","queries":{}}`)
		if status != 400 || body["error"] != "bad_request" {
			t.Fatalf("status %d body %v", status, body)
		}
	})
}

func TestStatus(t *testing.T) {
	s := start(t, testConfig(t))
	status, body, _ := call(t, s, "GET", "/api/conduit/status", "")
	demo := body["databases"].(map[string]any)["demo"].(map[string]any)
	if status != 200 || demo["ready"] != true || demo["engine"] != "sqlite" || demo["state"] != "CONNECTED" {
		t.Fatalf("status %d body %v", status, body)
	}
}

package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
)

// named sends a request to a named route with optional headers (name,
// value pairs) and decodes the JSON body.
func named(t *testing.T, s *server.Server, method, path, body string, headers ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, m, resp.Header
}

// TestNamedRoutes: GET /api/query/{db}/{ref}?NAME=value and POST with a
// flat body answer as /api/conduit/query does, each parameter typed by
// the entry's param_types; wrong, missing and repeated parameters are
// 400s naming them; GET of a write is 405 naming POST.
func TestNamedRoutes(t *testing.T) {
	secret := []byte("named-secret-named-secret-named-secret")
	cfg := testConfig(t)
	cfg.Auth.JWTSecret = config.Secret(secret)
	s := start(t, cfg)
	exp := expiry(time.Hour)
	demoToken := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: exp}, secret)
	otherToken := ingress.SignJWT(ingress.Claims{Databases: ingress.DatabaseList{"other"}, RegisteredClaims: exp}, secret)
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		want                     map[string]any
		message                  string // a part of message
	}{
		{"GET three rows", "GET", "/api/query/demo/55?START=1&FINISH=3", "", nil, 200,
			map[string]any{"success": true, "row_count": 3.0, "query_ref": 55.0, "database": "demo", "queue_used": "slow"}, ""},
		{"GET queue", "GET", "/api/query/demo/2?N=7&queue=fast", "", nil, 200, map[string]any{"row_count": 1.0, "queue_used": "fast"}, ""},
		{"GET auto queue", "GET", "/api/query/demo/2?N=7&queue=auto", "", nil, 200, map[string]any{"queue_used": "fast"}, ""},
		{"GET bad queue", "GET", "/api/query/demo/2?N=7&queue=turbo", "", nil, 400, map[string]any{"error": "bad_request"}, "queue must be"},
		{"GET wrong type", "GET", "/api/query/demo/55?START=one&FINISH=3", "", nil, 400,
			map[string]any{"error": "bad_params", "query_ref": 55.0, "database": "demo"}, "START"},
		{"GET float for integer", "GET", "/api/query/demo/55?START=1.5&FINISH=3", "", nil, 400, map[string]any{"error": "bad_params"}, "START"},
		{"GET missing", "GET", "/api/query/demo/55?START=1", "", nil, 400, map[string]any{"error": "bad_params"}, "FINISH"},
		{"GET repeated", "GET", "/api/query/demo/55?START=1&START=2&FINISH=3", "", nil, 400, map[string]any{"error": "bad_params"}, "START: given 2 times"},
		{"GET unused", "GET", "/api/query/demo/2?N=7&X=y", "", nil, 200, map[string]any{"success": true}, "X"},
		{"GET write", "GET", "/api/query/demo/104?N=10001", "", nil, 405, map[string]any{"error": "method_not_allowed"}, "POST it to /api/query/demo/104"},
		{"GET private without token", "GET", "/api/query/demo/4", "", nil, 200, map[string]any{"error": "query_not_found"}, ""},
		{"GET private with token", "GET", "/api/query/demo/4", "", []string{"Authorization", "Bearer " + demoToken}, 200, map[string]any{"success": true}, ""},
		{"GET token for another database", "GET", "/api/query/demo/4", "", []string{"Authorization", "Bearer " + otherToken}, 403, map[string]any{"error": "forbidden"}, ""},
		{"GET bad token", "GET", "/api/query/demo/1", "", []string{"Authorization", "Bearer x.y.z"}, 401,
			map[string]any{"error": "unauthorized", "query_ref": 1.0, "database": "demo"}, ""},
		{"GET unknown database", "GET", "/api/query/nope/1", "", nil, 400, map[string]any{"error": "invalid_database"}, ""},
		{"GET unknown ref", "GET", "/api/query/demo/999", "", nil, 200, map[string]any{"error": "query_not_found"}, ""},
		{"GET ref not a number", "GET", "/api/query/demo/x", "", nil, 400, map[string]any{"error": "bad_request"}, "ref must be an integer"},
		{"POST read", "POST", "/api/query/demo/55", `{"START":1,"FINISH":3}`, nil, 200, map[string]any{"success": true, "row_count": 3.0}, ""},
		{"POST string for integer", "POST", "/api/query/demo/55", `{"START":"1","FINISH":3}`, nil, 400, map[string]any{"error": "bad_params"}, "START"},
		{"POST duplicate key", "POST", "/api/query/demo/55", `{"START":1,"START":2,"FINISH":3}`, nil, 400, map[string]any{"error": "bad_request"}, `"START" appears twice`},
		{"POST not an object", "POST", "/api/query/demo/55", `[1,2]`, nil, 400, map[string]any{"error": "bad_request"}, "JSON object"},
		{"POST no body", "POST", "/api/query/demo/1", "", nil, 200, map[string]any{"success": true}, ""},
		{"POST write", "POST", "/api/query/demo/104", `{"N":10002}`, nil, 200, map[string]any{"success": true}, ""},
		{"PUT", "PUT", "/api/query/demo/1", "", nil, 405, map[string]any{"error": "method_not_allowed"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, _ := named(t, s, c.method, c.path, c.body, c.headers...)
			if status != c.status {
				t.Errorf("status %d, want %d; body %v", status, c.status, body)
			}
			for k, v := range c.want {
				if body[k] != v {
					t.Errorf("%s = %#v, want %#v (body %v)", k, body[k], v, body)
				}
			}
			if msg, _ := body["message"].(string); !strings.Contains(msg, c.message) {
				t.Errorf("message %q, want it to contain %q", msg, c.message)
			}
		})
	}
}

// TestNamedRoutesIdempotencyAndCache: a write POSTed twice with one
// Idempotency-Key runs once; the cached read of the table it wrote is
// dropped by the write, as on the Conduit endpoints.
func TestNamedRoutesIdempotencyAndCache(t *testing.T) {
	s := start(t, testConfig(t))
	count := func() (float64, bool) {
		t.Helper()
		status, body, _ := named(t, s, "GET", "/api/query/demo/3", "")
		if status != 200 {
			t.Fatalf("cached count: %d %v", status, body)
		}
		return body["rows"].([]any)[0].(map[string]any)["total"].(float64), body["cached"] == true
	}
	before, _ := count()
	if _, cached := count(); !cached {
		t.Fatal("second read not cached")
	}
	for i, want := range []string{"", "replay"} {
		status, body, _ := named(t, s, "POST", "/api/query/demo/104", `{"N":10003}`, "Idempotency-Key", "named-1")
		if status != 200 || body["success"] != true || !strings.Contains(fmt.Sprint(body["message"]), want) {
			t.Fatalf("write #%d: %d %v", i+1, status, body)
		}
	}
	after, cached := count()
	if cached || after != before+1 {
		t.Fatalf("after the write: total %v (before %v), cached %v", after, before, cached)
	}
}

// TestHeadRunsNoQuery: HEAD on the query routes is a 405 and publishes
// nothing.
func TestHeadRunsNoQuery(t *testing.T) {
	s := start(t, testConfig(t))
	js, _ := jetstream.New(s.NATS())
	before := lastSeq(t, js, "demo")
	for _, path := range []string{"/api/query/demo/55?START=1&FINISH=3", "/api/query/demo/55/auto/-"} {
		req, _ := http.NewRequest("HEAD", "http://"+s.HTTPAddr()+path, nil)
		// Not http.DefaultClient: a HEAD answer has no body to check.
		resp, err := (&http.Client{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("HEAD %s: %d, Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if after := lastSeq(t, js, "demo"); after != before {
		t.Fatalf("HEAD published %d requests", after-before)
	}
}

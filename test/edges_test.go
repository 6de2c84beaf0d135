package test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

// rawBody sends a request with headers (name, value pairs) and returns
// the status and the body as sent.
func rawBody(t *testing.T, s interface{ HTTPAddr() string }, method, path, body string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSoftEdges: the answers the first-hour probe found soft.
func TestSoftEdges(t *testing.T) {
	secret := []byte("edges-secret-edges-secret-edges-secret")
	cfg := testConfig(t)
	cfg.Auth.JWTSecret = config.Secret(secret)
	s := start(t, cfg)
	good := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: expiry(time.Hour)}, secret)
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		want                     []string // parts of the body
	}{
		{"401 names the body's ref and database", "POST", "/api/conduit/alt_query", `{"query_ref":4,"database":"demo"}`,
			[]string{"Authorization", "Bearer x.y.z"}, 401, []string{`"query_ref":4,"database":"demo"`}},
		{"401 names the body's ref", "POST", "/api/conduit/auth_query", `{"query_ref":4}`, nil, 401, []string{`"query_ref":4`}},
		{"two Authorization headers", "POST", "/api/conduit/auth_query", `{"query_ref":4}`,
			[]string{"Authorization", "Bearer " + good, "Authorization", "Bearer x.y.z"}, 400, []string{`"bad_request"`, "more than once"}},
		{"duplicate key", "POST", "/api/conduit/query", `{"query_ref":1,"query_ref":55,"database":"demo"}`, nil, 400, []string{`"query_ref\" appears twice`}},
		{"key in another case", "POST", "/api/conduit/query", `{"Query_Ref":1,"database":"demo"}`, nil, 400, []string{"keys are case-sensitive"}},
		{"dot-dot path", "GET", "/api/../healthz", ``, nil, 404, []string{`"not_found"`}},
		{"double slash", "GET", "//api/conduit/status", ``, nil, 404, []string{`"not_found"`}},
		{"success ends with a newline", "POST", "/api/conduit/query", `{"query_ref":1,"database":"demo"}`, nil, 200, []string{"}\n"}},
		{"failure ends with a newline", "POST", "/api/conduit/query", `{"query_ref":999,"database":"demo"}`, nil, 200, []string{"}\n"}},
		{"cached ends with a newline", "POST", "/api/conduit/query", `{"query_ref":3,"database":"demo"}`, nil, 200, []string{"}\n"}},
		{"cache hit ends with a newline", "POST", "/api/conduit/query", `{"query_ref":3,"database":"demo"}`, nil, 200, []string{`"cached":true`, "}\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := rawBody(t, s, c.method, c.path, c.body, c.headers...)
			if status != c.status {
				t.Errorf("status %d, want %d: %s", status, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %q lacks %q", body, w)
				}
			}
			if !strings.HasSuffix(body, "}\n") || strings.HasSuffix(body, "\n\n") {
				t.Errorf("body does not end with one newline: %q", body)
			}
		})
	}
	t.Run("deadline already past", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		res, err := s.Client().Query(ctx, "demo", 1, nil)
		if schemas.CodeOf(err) != schemas.CodeTimeout || res.Error != schemas.CodeTimeout || res.Error.Status() != 408 {
			t.Fatalf("%+v %v", res, err)
		}
	})
}

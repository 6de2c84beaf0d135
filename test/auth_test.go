package test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
)

func authCall(t *testing.T, s *server.Server, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+s.HTTPAddr()+path, bytes.NewBufferString(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func TestAuthEndpoints(t *testing.T) {
	secret := []byte("test-secret-test-secret-test-secret")
	cfg := testConfig(t)
	cfg.Auth.JWTSecret = config.Secret(secret)
	s := start(t, cfg)
	exp := expiry(time.Hour)
	good := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: exp}, secret)
	noDB := ingress.SignJWT(ingress.Claims{RegisteredClaims: exp}, secret)
	expired := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: expiry(-time.Minute)}, secret)
	forged := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: exp}, []byte("other"))
	none := unsigned(`{"alg":"none","typ":"JWT"}`, good)
	cases := []struct {
		name, path, token, body string
		status                  int
		want                    map[string]any
	}{
		{"private ref with token", "/api/conduit/auth_query", good, `{"query_ref":4}`, 200, map[string]any{"success": true, "database": "demo"}},
		{"unknown ref with token", "/api/conduit/auth_query", good, `{"query_ref":999}`, 200, map[string]any{"error": "query_not_found"}},
		{"no token", "/api/conduit/auth_query", "", `{"query_ref":4}`, 401, map[string]any{"error": "unauthorized"}},
		{"malformed token", "/api/conduit/auth_query", "abc.def", `{"query_ref":4}`, 401, map[string]any{"error": "unauthorized"}},
		{"expired", "/api/conduit/auth_query", expired, `{"query_ref":4}`, 401, map[string]any{"error": "unauthorized"}},
		{"wrong signature", "/api/conduit/auth_query", forged, `{"query_ref":4}`, 401, map[string]any{"error": "unauthorized"}},
		{"alg none", "/api/conduit/auth_query", none, `{"query_ref":4}`, 401, map[string]any{"error": "unauthorized"}},
		{"no database claim", "/api/conduit/auth_query", noDB, `{"query_ref":4}`, 401, map[string]any{"error": "unauthorized"}},
		{"alt: database from body", "/api/conduit/alt_query", noDB, `{"query_ref":4,"database":"demo"}`, 200, map[string]any{"success": true}},
		{"alt: no token", "/api/conduit/alt_query", "", `{"query_ref":4,"database":"demo"}`, 401, map[string]any{"error": "unauthorized"}},
		{"alt: unknown database", "/api/conduit/alt_query", good, `{"query_ref":4,"database":"nope"}`, 400, map[string]any{"error": "invalid_database"}},
		{"auth batch", "/api/conduit/auth_queries", good, `{"queries":[{"query_ref":4},{"query_ref":1}]}`, 200, map[string]any{"success": true}},
		{"alt batch", "/api/conduit/alt_queries", good, `{"database":"demo","queries":[{"query_ref":4}]}`, 200, map[string]any{"success": true}},
		{"auth batch no token", "/api/conduit/auth_queries", "", `{"queries":[{"query_ref":4}]}`, 401, map[string]any{"error": "unauthorized"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := authCall(t, s, c.path, c.token, c.body)
			if status != c.status {
				t.Errorf("status %d, want %d: %v", status, c.status, body)
			}
			for k, v := range c.want {
				if body[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, body[k], v, body)
				}
			}
		})
	}
	t.Run("status shows queues to token holders", func(t *testing.T) {
		get := func(token string) map[string]any {
			req, _ := http.NewRequest("GET", "http://"+s.HTTPAddr()+"/api/conduit/status", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return m["databases"].(map[string]any)["demo"].(map[string]any)
		}
		if q := get(good)["queues"]; q == nil {
			t.Error("no queues with a token")
		}
		if q := get("")["queues"]; q != nil {
			t.Error("queues without a token")
		}
	})
}

func TestAuthDisabledWithoutSecret(t *testing.T) {
	s := start(t, testConfig(t))
	token := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: expiry(time.Hour)}, []byte("any-secret-any-secret-any-secret"))
	status, body := authCall(t, s, "/api/conduit/auth_query", token, `{"query_ref":4}`)
	if status != 401 || !strings.Contains(fmt.Sprint(body["message"]), "not configured") {
		t.Fatalf("status %d %v", status, body)
	}
}

// expiry is registered claims expiring d from now (negative: expired, past
// the default 30 s leeway).
func expiry(d time.Duration) jwt.RegisteredClaims {
	if d < 0 {
		d -= time.Minute
	}
	return jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(d))}
}

// unsigned re-heads token's payload with header and no signature.
func unsigned(header, token string) string {
	payload := strings.Split(token, ".")[1]
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + payload + "."
}

// TestAuthLoggedAtStart: the launch log says whether auth is on and with
// which algorithms, and never holds the secret.
func TestAuthLoggedAtStart(t *testing.T) {
	for _, secret := range []string{"", "logged-secret-logged-secret-logged-secret"} {
		cfg := testConfig(t)
		cfg.Auth.JWTSecret = config.Secret(secret)
		var buf bytes.Buffer
		s, err := server.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		s.Shutdown(context.Background())
		log := buf.String()
		want := "msg=\"launch: auth\" enabled=false algorithms=\"\""
		if secret != "" {
			want = "msg=\"launch: auth\" enabled=true algorithms=HS256,HS384,HS512"
		}
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
		if secret != "" && strings.Contains(log, secret) {
			t.Error("the secret is logged")
		}
	}
}

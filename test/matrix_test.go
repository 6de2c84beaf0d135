package test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
)

const (
	matrixSecret = "matrix-secret-matrix-secret-matrix-secret"
	matrixAud    = "dqm"
	matrixIss    = "https://issuer.test"
)

// fresh sends each request on a new connection, so that no case depends
// on the state a previous one left on a kept-alive connection.
var fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// rawCall sends path as the request-target exactly as written (invalid
// escapes included) with the given headers, on a new connection, and
// decodes the JSON body.
func rawCall(t *testing.T, s *server.Server, method, path string, header http.Header, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL = &url.URL{Scheme: "http", Host: s.HTTPAddr(), Opaque: path}
	for k, v := range header {
		req.Header[k] = v
	}
	big := len(body) > 2<<20
	// The bytes of a big body that are sent before the client stalls.
	sent := 0
	if req.Header.Get("Transfer-Encoding") == "chunked" {
		req.Header.Del("Transfer-Encoding")
		req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		// Just over the default http.max_body_bytes (1 MiB): the server
		// must read past its limit to know.
		sent = 1<<20 + 4<<10
	}
	send := func() (*http.Response, error) {
		if big {
			// The server answers a body over its limit and closes. Bytes it
			// never read make the kernel reset the connection, and a reset
			// may swallow the answer before the client reads it. So send no
			// more than the server reads — nothing when Content-Length
			// already says too much, just past the limit when chunked — and
			// hold the rest back, as a slow client would, until the test
			// ends.
			stall := make(chan struct{})
			t.Cleanup(func() { close(stall) })
			req.Body = stallingBody{Reader: strings.NewReader(body[:sent]), stall: stall}
			req.GetBody = nil
		}
		return fresh.Do(req)
	}
	resp, err := send()
	// Even so, on a loaded machine the reset can still beat the answer to
	// the client: that is TCP, not dqm, so such a request is sent again.
	for attempt := 0; big && err != nil && errors.Is(err, syscall.ECONNRESET) && attempt < 3; attempt++ {
		resp, err = send()
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %.80s: status %d, body is not JSON: %v: %.200q", method, path, resp.StatusCode, err, raw)
	}
	return resp.StatusCode, m, resp.Header
}

// matrixServer is the demo with every key kind the matrix needs: the HS
// secret and an RSA public key (PEM), audience and issuer required.
func matrixServer(t *testing.T) (*server.Server, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemPath := filepath.Join(t.TempDir(), "rsa.pem")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Auth = config.Auth{JWTSecret: matrixSecret, JWTPublicKeyFile: pemPath, LeewayS: 30, Audience: matrixAud, Issuer: matrixIss}
	cfg.HTTP.MaxResponseBytes = 64 << 10
	return start(t, cfg), key
}

// TestRESTMatrix sends bad input of every kind at the REST adapter; each
// gets its contract status and error code as JSON, messages speak the API
// (never Go types), and the next good request still works.
func TestRESTMatrix(t *testing.T) {
	s, rsaKey := matrixServer(t)
	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		m := jwt.MapClaims{"database": "demo", "exp": now.Add(time.Hour).Unix(), "aud": matrixAud, "iss": matrixIss}
		if mod != nil {
			mod(m)
		}
		return m
	}
	hs := func(mod func(jwt.MapClaims)) string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(mod)).SignedString([]byte(matrixSecret))
		return tok
	}
	rs := func(mod func(jwt.MapClaims)) string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(mod)).SignedString(rsaKey)
		return tok
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey))})
	hsWithRSAKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString(pubPEM)
	good := hs(nil)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + strings.Split(good, ".")[1] + "."
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

	const q = "/api/conduit/query"
	const qs = "/api/conduit/queries"
	const auth = "/api/conduit/auth_query"
	const alt = "/api/conduit/alt_query"
	tenMB := `{"query_ref":55,"database":"demo","x":"` + strings.Repeat("x", 10<<20) + `"}`
	okRange := `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1,"FINISH":3}}}`
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf(`"P%d":%d`, i, i)
	}
	distinct := make([]string, 11)
	for i := range distinct {
		distinct[i] = fmt.Sprintf(`{"query_ref":2,"params":{"INTEGER":{"N":%d}}}`, i)
	}
	seed := func(ref, params string) string { return "/api/query/demo/" + ref + "/auto/" + params }

	cases := []struct {
		name, method, path string
		header             http.Header
		body               string
		status             int
		code               string // "" means success:true
		msg                string // a substring the message must hold
	}{
		// Malformed and truncated JSON.
		{"good", "POST", q, nil, okRange, 200, "", ""},
		{"malformed", "POST", q, nil, `{"query_ref":55,}`, 400, "bad_request", "malformed JSON"},
		{"truncated", "POST", q, nil, `{"query_ref":55,"database":"de`, 400, "bad_request", "ends early"},
		{"not JSON", "POST", q, nil, `hello`, 400, "bad_request", "malformed JSON"},
		{"empty body", "POST", q, nil, ``, 400, "bad_request", "ends early"},
		{"null body", "POST", q, nil, `null`, 400, "bad_request", "required"},
		{"array body", "POST", q, nil, `[]`, 400, "bad_request", "body must be an object"},
		{"trailing garbage", "POST", q, nil, okRange + `x`, 400, "bad_request", "malformed JSON"},
		{"missing query_ref", "POST", q, nil, `{"database":"demo"}`, 400, "bad_request", "required"},
		{"missing database", "POST", q, nil, `{"query_ref":55}`, 400, "bad_request", "required"},
		// Wrong types for every field.
		{"query_ref string", "POST", q, nil, `{"query_ref":"55","database":"demo"}`, 400, "bad_request", "query_ref must be an integer, got string"},
		{"query_ref float", "POST", q, nil, `{"query_ref":5.5,"database":"demo"}`, 400, "bad_request", "query_ref must be an integer"},
		{"query_ref bool", "POST", q, nil, `{"query_ref":true,"database":"demo"}`, 400, "bad_request", "query_ref must be an integer, got bool"},
		{"query_ref object", "POST", q, nil, `{"query_ref":{},"database":"demo"}`, 400, "bad_request", "query_ref must be an integer, got object"},
		{"database number", "POST", q, nil, `{"query_ref":55,"database":7}`, 400, "bad_request", "database must be a string, got number"},
		{"database array", "POST", q, nil, `{"query_ref":55,"database":["demo"]}`, 400, "bad_request", "database must be a string"},
		{"params string", "POST", q, nil, `{"query_ref":55,"database":"demo","params":"x"}`, 400, "bad_request", "params must be an object of typed groups"},
		{"params array", "POST", q, nil, `{"query_ref":55,"database":"demo","params":[]}`, 400, "bad_request", "params must be an object"},
		{"params group not object", "POST", q, nil, `{"query_ref":55,"database":"demo","params":{"INTEGER":5}}`, 400, "bad_request", "each group in params must be an object"},
		{"param value wrong type", "POST", q, nil, `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":"a","FINISH":2}}}`, 400, "bad_params", "START"},
		{"param unknown group", "POST", q, nil, `{"query_ref":55,"database":"demo","params":{"BLOB":{"START":1}}}`, 400, "bad_params", "BLOB"},
		{"batch queries object", "POST", qs, nil, `{"database":"demo","queries":{}}`, 400, "bad_request", "queries must be an array"},
		{"batch entry query_ref string", "POST", qs, nil, `{"database":"demo","queries":[{"query_ref":"2"}]}`, 400, "bad_request", "query_ref must be an integer"},
		{"batch database bool", "POST", qs, nil, `{"database":true,"queries":[]}`, 400, "bad_request", "database must be a string"},
		// Huge numbers and deep nesting.
		{"huge query_ref", "POST", q, nil, `{"query_ref":99999999999999999999,"database":"demo"}`, 400, "bad_request", "query_ref must be an integer"},
		{"exponent query_ref", "POST", q, nil, `{"query_ref":1e400,"database":"demo"}`, 400, "bad_request", "query_ref must be an integer"},
		{"negative query_ref", "POST", q, nil, `{"query_ref":-1,"database":"demo"}`, 200, "query_not_found", ""},
		{"huge integer param", "POST", q, nil, `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":99999999999999999999,"FINISH":1}}}`, 400, "bad_params", "START"},
		{"huge float param", "POST", q, nil, `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1e400,"FINISH":1}}}`, 400, "bad_params", "START"},
		{"deep nesting in params", "POST", q, nil, `{"query_ref":55,"database":"demo","params":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, 400, "bad_request", ""},
		{"deep nesting unclosed", "POST", q, nil, strings.Repeat("[", 10000), 400, "bad_request", ""},
		{"10 MB body", "POST", q, nil, tenMB, 413, "too_large", "http.max_body_bytes"},
		{"10 MB body, chunked", "POST", q, http.Header{"Transfer-Encoding": {"chunked"}}, tenMB, 413, "too_large", "http.max_body_bytes"},
		// Encoding.
		{"invalid UTF-8", "POST", q, nil, "{\"query_ref\":103,\"database\":\"demo\",\"params\":{\"STRING\":{\"S\":\"\xff\xfe\"}}}", 400, "bad_request", "UTF-8"},
		{"NUL escape", "POST", q, nil, `{"query_ref":103,"database":"demo","params":{"STRING":{"S":"a\u0000b"}}}`, 400, "bad_request", "NUL"},
		{"raw NUL byte", "POST", q, nil, "{\"query_ref\":103,\"database\":\"demo\",\"params\":{\"STRING\":{\"S\":\"a\x00b\"}}}", 400, "bad_request", "NUL"},
		{"escaped backslash then u0000 is text", "POST", q, nil, `{"query_ref":103,"database":"demo","params":{"STRING":{"S":"a\\u0000b"}}}`, 200, "", ""},
		// Hostile values.
		{"SQL text as a param", "POST", q, nil, `{"query_ref":103,"database":"demo","params":{"STRING":{"S":"1'; DROP TABLE numbers; --"}}}`, 200, "", ""},
		{"SQL text as the database", "POST", q, nil, `{"query_ref":55,"database":"demo; DROP TABLE numbers"}`, 400, "invalid_database", ""},
		{"1,000 params", "POST", q, nil, `{"query_ref":2,"database":"demo","params":{"INTEGER":{"N":1,` + strings.Join(many, ",") + `}}}`, 200, "", "P999"},
		{"11 distinct in a batch", "POST", qs, nil, `{"database":"demo","queries":[` + strings.Join(distinct, ",") + `]}`, 429, "too_many", ""},
		{"result over max_response_bytes", "POST", q, nil, `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":0,"FINISH":9999}}}`, 413, "too_large", "http.max_response_bytes"},
		{"wrong method", "GET", q, nil, ``, 405, "method_not_allowed", ""},
		// The GET seed path.
		{"GET good", "GET", seed("55", url.PathEscape(`{"INTEGER":{"START":1,"FINISH":3}}`)), nil, ``, 200, "", ""},
		{"GET write entry", "GET", seed("104", url.PathEscape(`{"INTEGER":{"N":30000}}`)), nil, ``, 405, "method_not_allowed", "POST it to /api/conduit/query"},
		{"GET invalid escape in params", "GET", seed("55", "%ZZ"), nil, ``, 400, "bad_request", ""},
		{"GET truncated escape", "GET", seed("55", "%7"), nil, ``, 400, "bad_request", ""},
		{"GET invalid escape in ref", "GET", seed("%G5", "-"), nil, ``, 400, "bad_request", ""},
		{"GET params not UTF-8", "GET", seed("55", "%FF"), nil, ``, 400, "bad_request", "UTF-8"},
		{"GET params NUL", "GET", seed("103", url.PathEscape(`{"STRING":{"S":"a`)+"%00"+url.PathEscape(`"}}`)), nil, ``, 400, "bad_request", "NUL"},
		{"GET params wrong type", "GET", seed("55", url.PathEscape(`{"INTEGER":[]}`)), nil, ``, 400, "bad_request", "each group in params must be an object"},
		{"GET ref not an integer", "GET", seed("abc", "-"), nil, ``, 400, "bad_request", "query_ref must be an integer"},
		// Every JWT variant.
		{"JWT missing", "POST", auth, nil, `{"query_ref":4}`, 401, "unauthorized", "missing bearer token"},
		{"JWT malformed", "POST", auth, bearer("abc.def"), `{"query_ref":4}`, 401, "unauthorized", "malformed"},
		{"JWT empty bearer", "POST", auth, bearer(""), `{"query_ref":4}`, 401, "unauthorized", "malformed"},
		{"JWT lowercase bearer", "POST", auth, http.Header{"Authorization": {"bearer " + good}}, `{"query_ref":4}`, 200, "", ""},
		{"JWT uppercase BEARER", "POST", auth, http.Header{"Authorization": {"BEARER " + good}}, `{"query_ref":4}`, 200, "", ""},
		{"JWT Basic scheme", "POST", auth, http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, `{"query_ref":4}`, 401, "unauthorized", "Bearer"},
		{"JWT expired", "POST", auth, bearer(hs(func(m jwt.MapClaims) { m["exp"] = now.Add(-time.Hour).Unix() })), `{"query_ref":4}`, 401, "unauthorized", "expired"},
		{"JWT no exp", "POST", auth, bearer(hs(func(m jwt.MapClaims) { delete(m, "exp") })), `{"query_ref":4}`, 401, "unauthorized", "no exp"},
		{"JWT nbf in the future", "POST", auth, bearer(hs(func(m jwt.MapClaims) { m["nbf"] = now.Add(time.Hour).Unix() })), `{"query_ref":4}`, 401, "unauthorized", "not valid yet"},
		{"JWT float exp", "POST", auth, bearer(hs(func(m jwt.MapClaims) { m["exp"] = float64(now.Add(time.Hour).UnixMilli()) / 1000 })), `{"query_ref":4}`, 200, "", ""},
		{"JWT wrong signature", "POST", auth, bearer(must(jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString([]byte("wrong-secret-wrong-secret-wrong-secret")))), `{"query_ref":4}`, 401, "unauthorized", "signature"},
		{"JWT alg none", "POST", auth, bearer(none), `{"query_ref":4}`, 401, "unauthorized", "algorithm"},
		{"JWT HS256 signed with the RSA public key", "POST", auth, bearer(hsWithRSAKey), `{"query_ref":4}`, 401, "unauthorized", "signature"},
		{"JWT RS256", "POST", auth, bearer(rs(nil)), `{"query_ref":4}`, 200, "", ""},
		{"JWT wrong audience", "POST", auth, bearer(hs(func(m jwt.MapClaims) { m["aud"] = "someone-else" })), `{"query_ref":4}`, 401, "unauthorized", "audience"},
		{"JWT wrong issuer", "POST", auth, bearer(hs(func(m jwt.MapClaims) { m["iss"] = "https://evil.test" })), `{"query_ref":4}`, 401, "unauthorized", "issuer"},
		{"JWT no database claim on auth_query", "POST", auth, bearer(hs(func(m jwt.MapClaims) { delete(m, "database") })), `{"query_ref":4}`, 401, "unauthorized", "database claim"},
		{"JWT over max_header_bytes", "POST", auth, bearer(strings.Repeat("a", 70<<10)), `{"query_ref":4}`, 431, "too_large", "max_header_bytes"},
		{"alt: databases claim allows", "POST", alt, bearer(hs(func(m jwt.MapClaims) { m["databases"] = []string{"demo"} })), `{"query_ref":4,"database":"demo"}`, 200, "", ""},
		{"alt: databases claim *", "POST", alt, bearer(rs(func(m jwt.MapClaims) { m["databases"] = "*" })), `{"query_ref":4,"database":"demo"}`, 200, "", ""},
		{"alt: databases claim denies", "POST", alt, bearer(hs(func(m jwt.MapClaims) { m["databases"] = []string{"other"} })), `{"query_ref":4,"database":"demo"}`, 403, "forbidden", "does not permit"},
		{"alt: empty databases claim denies", "POST", alt, bearer(hs(func(m jwt.MapClaims) { m["databases"] = []string{} })), `{"query_ref":4,"database":"demo"}`, 403, "forbidden", ""},
		{"alt: batch denied", "POST", "/api/conduit/alt_queries", bearer(hs(func(m jwt.MapClaims) { m["databases"] = []string{"other"} })), `{"database":"demo","queries":[{"query_ref":4}]}`, 403, "forbidden", ""},
		{"alt: no databases claim keeps Hydrogen's behaviour", "POST", alt, bearer(good), `{"query_ref":4,"database":"demo"}`, 200, "", ""},
		{"alt: malformed databases claim", "POST", alt, bearer(hs(func(m jwt.MapClaims) { m["databases"] = 7 })), `{"query_ref":4,"database":"demo"}`, 401, "unauthorized", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, h := rawCall(t, s, c.method, c.path, c.header, c.body)
			if status != c.status {
				t.Errorf("status %d, want %d; body %.300v", status, c.status, body)
			}
			if c.code == "" {
				if body["success"] != true {
					t.Errorf("success = %v; body %.300v", body["success"], body)
				}
			} else if body["error"] != c.code || body["success"] != false {
				t.Errorf("error = %v, want %s; body %.300v", body["error"], c.code, body)
			}
			msg := fmt.Sprint(body["message"])
			if !strings.Contains(msg, c.msg) {
				t.Errorf("message %q does not hold %q", msg, c.msg)
			}
			for _, goism := range []string{"Go struct", "Go value", "json: ", "int64", "map[string]", "ingress."} {
				if strings.Contains(msg, goism) {
					t.Errorf("message speaks Go (%q): %s", goism, msg)
				}
			}
			if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (%q)", h.Get("WWW-Authenticate"))
			}
			if status == 401 && c.header != nil && !strings.Contains(c.name, "Basic") && !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("invalid token without error=invalid_token: %q", h.Get("WWW-Authenticate"))
			}
		})
	}
	t.Logf("matrix: %d cases", len(cases))
	// After all of it the next good request works, and the write the GET
	// path refused never ran.
	status, body, _ := call(t, s, "POST", q, okRange)
	if status != 200 || body["success"] != true || body["row_count"] != 3.0 {
		t.Fatalf("good request after the matrix: %d %v", status, body)
	}
	_, body, _ = call(t, s, "POST", q, `{"query_ref":2,"database":"demo","params":{"INTEGER":{"N":30000}}}`)
	if body["row_count"] != 0.0 {
		t.Fatalf("the refused GET write ran: %v", body)
	}
}

// stallingBody reads its Reader, then blocks until stall is closed.
type stallingBody struct {
	io.Reader
	stall chan struct{}
}

func (b stallingBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF {
		<-b.stall
	}
	return n, err
}

func (b stallingBody) Close() error { return nil }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

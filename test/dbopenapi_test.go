package test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
)

// databaseDoc fetches and validates a database's OpenAPI document.
func databaseDoc(t *testing.T, s *server.Server, db, token string) *openapi3.T {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.HTTPAddr()+"/api/databases/"+db+"/openapi.json", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, raw)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v\n%s", err, raw)
	}
	return doc
}

func types(s *openapi3.SchemaRef) []string {
	if s == nil || s.Value == nil || s.Value.Type == nil {
		return nil
	}
	return *s.Value.Type
}

// TestDatabaseOpenAPI: the demo's document validates, types ref 55's
// parameters (integers) and its column (an integer), shows private
// entries only to a token, describes real answers (checked with
// kin-openapi against the document) and follows catalog changes.
func TestDatabaseOpenAPI(t *testing.T) {
	secret := []byte("doc-secret-doc-secret-doc-secret-doc")
	cfg := testConfig(t)
	cfg.Auth.JWTSecret = config.Secret(secret)
	s := start(t, cfg)
	doc := databaseDoc(t, s, "demo", "")
	p := doc.Paths.Find("/api/query/demo/55")
	if p == nil || p.Get == nil || p.Post == nil {
		t.Fatalf("ref 55: %+v", p)
	}
	for _, name := range []string{"START", "FINISH"} {
		param := p.Get.Parameters.GetByInAndName("query", name)
		if param == nil || !param.Required || !slices.Equal(types(param.Schema), []string{"integer"}) {
			t.Errorf("GET parameter %s: %+v", name, param)
		}
	}
	row := doc.Components.Schemas["Row55"]
	if row == nil || !slices.Contains(types(row.Value.Properties["numbers"]), "integer") {
		t.Fatalf("Row55: %+v", row)
	}
	if doc.Paths.Find("/api/query/demo/4") != nil {
		t.Fatal("the private entry is shown without a token")
	}
	if w := doc.Paths.Find("/api/query/demo/104"); w == nil || w.Get != nil || w.Post == nil {
		t.Fatalf("the write: %+v", w)
	}
	token := ingress.SignJWT(ingress.Claims{Database: "demo", RegisteredClaims: expiry(time.Hour)}, secret)
	private := databaseDoc(t, s, "demo", token)
	if p4 := private.Paths.Find("/api/query/demo/4"); p4 == nil || p4.Get == nil || p4.Get.Security == nil {
		t.Fatalf("the private entry with a token: %+v", p4)
	}

	t.Run("answers match", func(t *testing.T) {
		checkAgainst(t, s, doc, "GET", "/api/query/demo/55?START=1&FINISH=3", "")
		checkAgainst(t, s, doc, "POST", "/api/query/demo/55", `{"START":7,"FINISH":9}`)
		checkAgainst(t, s, doc, "GET", "/api/query/demo/2?N=5", "")
		checkAgainst(t, s, doc, "GET", "/api/query/demo/3", "")
		checkAgainst(t, s, doc, "POST", "/api/query/demo/104", `{"N":20104}`)
		checkAgainst(t, s, doc, "GET", "/api/query/demo/55?START=x&FINISH=3", "")
	})

	t.Run("follows the catalog", func(t *testing.T) {
		direct := testutil.DirectDB(t, "sqlite", string(cfg.Databases["demo"].DSN))
		if _, err := direct.Exec(`INSERT INTO queries (ref, name, sql_text, queue, is_public, tables_list, param_types)
			VALUES (70, 'by name', 'SELECT numbers, CAST(numbers AS TEXT) AS label FROM numbers WHERE numbers = :N', 'fast', 1, 'numbers', 'N INTEGER')`); err != nil {
			t.Fatal(err)
		}
		var got *openapi3.T
		testutil.Eventually(t, 10*time.Second, "ref 70 in the document", func() bool {
			got = databaseDoc(t, s, "demo", "")
			return got.Paths.Find("/api/query/demo/70") != nil
		})
		if got.Info.Version == doc.Info.Version {
			t.Errorf("version %s unchanged", got.Info.Version)
		}
		if label := got.Components.Schemas["Row70"].Value.Properties["label"]; label == nil {
			t.Fatalf("Row70: %+v", got.Components.Schemas["Row70"].Value)
		}
	})
}

// checkAgainst sends a request and validates it and its answer against
// a database's document.
func checkAgainst(t *testing.T, s *server.Server, doc *openapi3.T, method, path, body string) {
	t.Helper()
	doc.Servers = openapi3.Servers{{URL: "http://" + s.HTTPAddr()}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, "http://"+s.HTTPAddr()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	req, _ = http.NewRequest(method, "http://"+s.HTTPAddr()+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if (reqErr == nil) != (resp.StatusCode == 200) {
		t.Errorf("%s %s: the document says %v, the server %d %s", method, path, reqErr, resp.StatusCode, raw)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(raw)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d %s: %v", method, path, resp.StatusCode, raw, err)
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		t.Errorf("%s %s: not JSON: %s", method, path, raw)
	}
}

// TestDatabaseOpenAPIPostgres: PostgreSQL describes a statement without
// running it, so its columns are typed (pg_sleep's entry is described at
// once).
func TestDatabaseOpenAPIPostgres(t *testing.T) {
	s := start(t, pgConfig(t))
	start := time.Now()
	doc := databaseDoc(t, s, "pg", "")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("described in %v", took)
	}
	row := doc.Components.Schemas["Row10"]
	if row == nil || !slices.Contains(types(row.Value.Properties["done"]), "integer") {
		t.Fatalf("Row10: %+v", row.Value)
	}
}

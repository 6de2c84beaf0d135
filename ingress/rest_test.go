package ingress

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dqmhq/dqm/internal/catalog"
)

// noDatabases serves nothing: every test here is answered before a
// catalog is looked up.
type noDatabases struct{}

func (noDatabases) Catalog(string) (*catalog.Catalog, bool) { return nil, false }
func (noDatabases) Status() map[string]DatabaseStatus       { return nil }

func post(t *testing.T, h http.Handler, path, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestRESTAuthOff(t *testing.T) {
	r := NewREST(nil, noDatabases{}, RESTConfig{})
	for _, auth := range []string{"", "Bearer x.y.z"} {
		w := post(t, r, "/api/conduit/auth_query", auth, `{"query_ref":4}`)
		if w.Code != 401 || !strings.Contains(w.Body.String(), "auth is not configured") ||
			!strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%q: %d %s %v", auth, w.Code, w.Body, w.Header())
		}
	}
}

func TestRESTAltRequiresDatabasesClaim(t *testing.T) {
	a, err := NewAuth(AuthConfig{Secret: testSecret, AltRequiresDatabasesClaim: true})
	if err != nil {
		t.Fatal(err)
	}
	r := NewREST(nil, noDatabases{}, RESTConfig{Auth: a})
	exp := jwt.NewNumericDate(time.Now().Add(time.Hour))
	noClaim := SignJWT(Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}, testSecret)
	w := post(t, r, "/api/conduit/alt_query", "Bearer "+noClaim, `{"query_ref":4,"database":"demo"}`)
	if w.Code != 403 || !strings.Contains(w.Body.String(), `"error":"forbidden"`) ||
		!strings.Contains(w.Header().Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("no claim: %d %s %v", w.Code, w.Body, w.Header())
	}
	// With the claim, the request gets past auth (to the database check).
	withClaim := SignJWT(Claims{Databases: DatabaseList{"demo"}, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}, testSecret)
	w = post(t, r, "/api/conduit/alt_query", "Bearer "+withClaim, `{"query_ref":4,"database":"demo"}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "invalid_database") {
		t.Errorf("with claim: %d %s", w.Code, w.Body)
	}
}

// statusOnly is a Databases without catalogs.
type statusOnly struct{}

func (statusOnly) Status() map[string]DatabaseStatus { return nil }

func TestNewRESTNeedsCatalogs(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "Catalog") {
			t.Fatalf("panic %v, want one naming Catalog", p)
		}
	}()
	NewREST(nil, statusOnly{}, RESTConfig{})
}

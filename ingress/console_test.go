package ingress

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAdminOnly: the console's endpoints need a valid token whose admin
// claim is true; anything else is refused before the handler runs.
func TestAdminOnly(t *testing.T) {
	auth, err := NewAuth(AuthConfig{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(extra map[string]any) string {
		c := jwt.MapClaims{"sub": "op", "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
		return s
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tt := range []struct {
		name   string
		auth   *Auth
		header string
		want   int
	}{
		{"auth off", nil, "Bearer " + sign(map[string]any{"dqm_admin": true}), 401},
		{"no token", auth, "", 401},
		{"not bearer", auth, "Basic abc", 401},
		{"bad signature", auth, "Bearer " + sign(map[string]any{"dqm_admin": true}) + "x", 401},
		{"no claim", auth, "Bearer " + sign(nil), 403},
		{"claim false", auth, "Bearer " + sign(map[string]any{"dqm_admin": false}), 403},
		{"claim a string", auth, "Bearer " + sign(map[string]any{"dqm_admin": "true"}), 403},
		{"another claim", auth, "Bearer " + sign(map[string]any{"admin": true}), 403},
		{"admin", auth, "Bearer " + sign(map[string]any{"dqm_admin": true}), 204},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewREST(nil, noDatabases{}, RESTConfig{Auth: tt.auth})
			req := httptest.NewRequest("GET", "/api/console/state", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			r.AdminOnly("dqm_admin", ok).ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want != 204 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate challenge")
			}
		})
	}
}

package ingress

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzNow is the fuzz verifier's clock, fixed so that the committed seed
// tokens (testdata/fuzz/FuzzVerifyToken) stay valid.
var fuzzNow = time.Unix(1_700_000_000, 0)

// FuzzVerifyToken feeds arbitrary text to the verifier (HS secret plus RSA,
// EC and Ed25519 keys): it must never panic, and whatever it accepts must
// be a three-segment token of an accepted algorithm, unexpired, that
// re-verifies to the same claims.
func FuzzVerifyToken(f *testing.F) {
	keys := newTestKeys(f)
	a, err := NewAuth(AuthConfig{Secret: testSecret, JWKSFile: keys.jwks(f), Leeway: 30 * time.Second,
		Now: func() time.Time { return fuzzNow }})
	if err != nil {
		f.Fatal(err)
	}
	exp := fuzzNow.Add(time.Hour).Unix()
	f.Add(sign(f, jwt.SigningMethodHS256, testSecret, "", jwt.MapClaims{"database": "demo", "exp": exp}))
	f.Add(sign(f, jwt.SigningMethodRS256, keys.rsa, "rsa1", jwt.MapClaims{"databases": []string{"demo"}, "exp": exp}))
	f.Add(sign(f, jwt.SigningMethodES256, keys.ec, "ec1", jwt.MapClaims{"databases": "*", "exp": exp}))
	f.Add(sign(f, jwt.SigningMethodEdDSA, keys.ed, "ed1", jwt.MapClaims{"exp": float64(exp) + 0.5}))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := a.Verify(token)
		if err != nil {
			if c != nil {
				t.Fatal("claims with an error")
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 || parts[2] == "" {
			t.Fatalf("accepted %q", token)
		}
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		var head struct{ Alg string }
		json.Unmarshal(h, &head)
		if !slices.Contains(a.Algorithms(), head.Alg) {
			t.Fatalf("accepted alg %q", head.Alg)
		}
		if c.ExpiresAt == nil || !c.ExpiresAt.Add(30*time.Second).After(fuzzNow) {
			t.Fatalf("accepted exp %v", c.ExpiresAt)
		}
		again, err := a.Verify(token)
		if err != nil || again.Database != c.Database || !slices.Equal(again.Databases, c.Databases) {
			t.Fatalf("re-verify: %v", err)
		}
	})
}

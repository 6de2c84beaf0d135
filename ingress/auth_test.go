package ingress

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dqmhq/dqm/schemas"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testKeys are one key of each asymmetric kind, generated once per run.
type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, d, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{r, e, d}
}

// jwks writes the public keys as a JWKS file with kids rsa1, ec1, ed1.
func (k testKeys) jwks(t testing.TB) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	ecPub, _ := k.ec.PublicKey.Bytes() // 0x04 || X || Y
	set := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa1", "use": "sig", "n": b64(k.rsa.N.Bytes()), "e": b64(big.NewInt(int64(k.rsa.E)).Bytes())},
		{"kty": "EC", "kid": "ec1", "crv": "P-256", "alg": "ES256", "x": b64(ecPub[1:33]), "y": b64(ecPub[33:])},
		{"kty": "OKP", "kid": "ed1", "crv": "Ed25519", "x": b64(k.ed.Public().(ed25519.PublicKey))},
		{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
	}}
	b, _ := json.Marshal(set)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pemFile(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func seg(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }

func TestVerify(t *testing.T) {
	keys := newTestKeys(t)
	now := time.Unix(1_700_000_000, 0)
	a, err := NewAuth(AuthConfig{Secret: testSecret, JWKSFile: keys.jwks(t), Leeway: 30 * time.Second,
		Audience: "dqm", Issuer: "https://issuer.test", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	claims := func(mod func(m jwt.MapClaims)) jwt.MapClaims {
		m := jwt.MapClaims{"database": "demo", "exp": now.Unix() + 60, "iat": now.Unix(), "aud": "dqm", "iss": "https://issuer.test"}
		if mod != nil {
			mod(m)
		}
		return m
	}
	hs := func(mod func(m jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodHS256, testSecret, "", claims(mod))
	}
	rsaPEM, _ := os.ReadFile(pemFile(t, &keys.rsa.PublicKey))
	good := hs(nil)
	parts := strings.Split(good, ".")
	cases := []struct {
		name, token, err string
	}{
		{"HS256", good, ""},
		{"HS384", sign(t, jwt.SigningMethodHS384, testSecret, "", claims(nil)), ""},
		{"HS512", sign(t, jwt.SigningMethodHS512, testSecret, "", claims(nil)), ""},
		{"RS256 by kid", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa1", claims(nil)), ""},
		{"RS256 without kid", sign(t, jwt.SigningMethodRS256, keys.rsa, "", claims(nil)), ""},
		{"PS256", sign(t, jwt.SigningMethodPS256, keys.rsa, "rsa1", claims(nil)), ""},
		{"ES256", sign(t, jwt.SigningMethodES256, keys.ec, "ec1", claims(nil)), ""},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, keys.ed, "ed1", claims(nil)), ""},
		{"float exp", hs(func(m jwt.MapClaims) { m["exp"] = float64(now.Unix()) + 60.5 }), ""},
		{"expired within leeway", hs(func(m jwt.MapClaims) { m["exp"] = now.Unix() - 10 }), ""},
		{"audience in a list", hs(func(m jwt.MapClaims) { m["aud"] = []string{"other", "dqm"} }), ""},
		{"expired", hs(func(m jwt.MapClaims) { m["exp"] = now.Unix() - 31 }), "expired at 2023-11-14T22:12:49Z"},
		{"no exp", hs(func(m jwt.MapClaims) { delete(m, "exp") }), "no exp claim"},
		{"exp not a number", hs(func(m jwt.MapClaims) { m["exp"] = "soon" }), "exp claim is not a NumericDate"},
		{"exp a numeric string", hs(func(m jwt.MapClaims) { m["exp"] = strconv.FormatInt(now.Unix()+60, 10) }), `exp claim is not a NumericDate: want seconds since 1970 as a JSON number (RFC 7519), got "\"1700000060\""`},
		{"exp 1e300", hs(func(m jwt.MapClaims) { m["exp"] = 1e300 }), "exp claim is not a NumericDate"},
		{"EXP a string", hs(func(m jwt.MapClaims) { m["EXP"] = "1700000060" }), "EXP claim is not a NumericDate"},
		{"nbf a string", hs(func(m jwt.MapClaims) { m["nbf"] = "0" }), "nbf claim is not a NumericDate"},
		{"iat true", hs(func(m jwt.MapClaims) { m["iat"] = true }), "iat claim is not a NumericDate"},
		{"nbf in the future", hs(func(m jwt.MapClaims) { m["nbf"] = now.Unix() + 120 }), "not valid yet"},
		{"iat in the future", hs(func(m jwt.MapClaims) { m["iat"] = now.Unix() + 120 }), "issued in the future"},
		{"wrong audience", hs(func(m jwt.MapClaims) { m["aud"] = "other" }), "wrong audience"},
		{"no audience", hs(func(m jwt.MapClaims) { delete(m, "aud") }), "no aud claim"},
		{"wrong issuer", hs(func(m jwt.MapClaims) { m["iss"] = "https://evil.test" }), "wrong issuer"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), "", claims(nil)), "signature does not match the configured key"},
		{"HS256 signed with the RSA public key", sign(t, jwt.SigningMethodHS256, rsaPEM, "rsa1", claims(nil)), "signature does not match"},
		{"RS256 with the EC kid", sign(t, jwt.SigningMethodRS256, keys.rsa, "ec1", claims(nil)), `the key with kid "ec1" does not verify RS256`},
		{"kid absent from the JWKS", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa9", claims(nil)), `no configured key has kid "rsa9"`},
		{"alg none", seg(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", `algorithm "none" is not accepted here (this server verifies HS256, HS384, HS512, RS256`},
		{"alg None", seg(`{"alg":"None","typ":"JWT"}`) + "." + parts[1] + ".", `algorithm "None" is not accepted`},
		{"alg unknown", seg(`{"alg":"XX999"}`) + "." + parts[1] + "." + parts[2], `algorithm "XX999" is not accepted`},
		{"tampered payload", parts[0] + "." + seg(`{"database":"other","exp":99999999999,"aud":"dqm","iss":"https://issuer.test"}`) + "." + parts[2], "signature does not match"},
		{"two segments", "a.b", "malformed"},
		{"garbage", "!!!.???.***", "malformed"},
		{"empty", "", "malformed"},
		{"databases claim not a list", hs(func(m jwt.MapClaims) { m["databases"] = 5 }), "malformed"},
		{"databases claim other string", hs(func(m jwt.MapClaims) { m["databases"] = "demo" }), "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims, err := a.Verify(c.token)
			if c.err == "" {
				if err != nil || claims.Database != "demo" {
					t.Fatalf("claims %+v, err %v", claims, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
			if schemas.CodeOf(err) != schemas.CodeUnauthorized {
				t.Errorf("code %s", schemas.CodeOf(err))
			}
		})
	}
}

func TestVerifyKeySources(t *testing.T) {
	keys := newTestKeys(t)
	exp := jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()}
	t.Run("PEM keys", func(t *testing.T) {
		for _, k := range []struct {
			pub  crypto.PublicKey
			m    jwt.SigningMethod
			priv any
		}{{&keys.rsa.PublicKey, jwt.SigningMethodRS256, keys.rsa}, {&keys.ec.PublicKey, jwt.SigningMethodES256, keys.ec},
			{keys.ed.Public(), jwt.SigningMethodEdDSA, keys.ed}} {
			a, err := NewAuth(AuthConfig{PublicKeyFile: pemFile(t, k.pub)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Verify(sign(t, k.m, k.priv, "", exp)); err != nil {
				t.Errorf("%s: %v", k.m.Alg(), err)
			}
			// With only a public key, an HMAC token signed with that key's
			// PEM is refused by algorithm, before any signature check.
			pemBytes, _ := os.ReadFile(pemFile(t, k.pub))
			if _, err := a.Verify(sign(t, jwt.SigningMethodHS256, pemBytes, "", exp)); err == nil {
				t.Errorf("%s: HS256 with the public key accepted", k.m.Alg())
			}
			if got := a.Algorithms(); strings.Contains(strings.Join(got, ","), "HS") {
				t.Errorf("algorithms %v", got)
			}
		}
	})
	t.Run("a kid picks its key; no PEM fallback", func(t *testing.T) {
		other := newTestKeys(t)
		a, err := NewAuth(AuthConfig{PublicKeyFile: pemFile(t, &other.rsa.PublicKey), JWKSFile: keys.jwks(t)})
		if err != nil {
			t.Fatal(err)
		}
		// Signed with the PEM key but naming a kid the JWKS lacks: refused,
		// not tried against the PEM key.
		if _, err := a.Verify(sign(t, jwt.SigningMethodRS256, other.rsa, "nokid", exp)); err == nil || !strings.Contains(err.Error(), `no configured key has kid "nokid"`) {
			t.Errorf("unknown kid: %v", err)
		}
		if _, err := a.Verify(sign(t, jwt.SigningMethodRS256, other.rsa, "", exp)); err != nil {
			t.Errorf("PEM key without kid: %v", err)
		}
		if _, err := a.Verify(sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa1", exp)); err != nil {
			t.Errorf("JWKS key by kid: %v", err)
		}
	})
	t.Run("no key", func(t *testing.T) {
		a, err := NewAuth(AuthConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Verify(SignJWT(Claims{}, testSecret)); err == nil || !strings.Contains(err.Error(), "not configured") {
			t.Fatalf("err %v", err)
		}
		var nilAuth *Auth
		if nilAuth.Enabled() || nilAuth.Algorithms() != nil {
			t.Fatal("nil Auth enabled")
		}
	})
	t.Run("refused at load", func(t *testing.T) {
		dir := t.TempDir()
		write := func(name, text string) string {
			p := filepath.Join(dir, name)
			os.WriteFile(p, []byte(text), 0o600)
			return p
		}
		small, _ := rsa.GenerateKey(rand.Reader, 1024)
		for name, cfg := range map[string]AuthConfig{
			"short secret":   {Secret: []byte("short")},
			"missing PEM":    {PublicKeyFile: filepath.Join(dir, "nope.pem")},
			"not PEM":        {PublicKeyFile: write("x.pem", "hello")},
			"private PEM":    {PublicKeyFile: write("p.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})))},
			"small RSA":      {PublicKeyFile: pemFile(t, &small.PublicKey)},
			"JWKS not JSON":  {JWKSFile: write("a.json", "{")},
			"JWKS empty":     {JWKSFile: write("b.json", `{"keys":[]}`)},
			"JWKS oct":       {JWKSFile: write("c.json", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)},
			"JWKS private":   {JWKSFile: write("d.json", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"x"}]}`)},
			"JWKS bad point": {JWKSFile: write("e.json", `{"keys":[{"kty":"EC","crv":"P-256","x":"`+seg(strings.Repeat("a", 32))+`","y":"`+seg(strings.Repeat("b", 32))+`"}]}`)},
			"JWKS alg mismatch": {JWKSFile: write("f.json",
				`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"RS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)},
		} {
			if _, err := NewAuth(cfg); err == nil {
				t.Errorf("%s: accepted", name)
			} else if cfg.Secret != nil && strings.Contains(err.Error(), string(cfg.Secret)) {
				t.Errorf("%s: secret echoed: %v", name, err)
			}
		}
	})
}

func TestDatabasesClaim(t *testing.T) {
	for _, c := range []struct {
		json  string
		set   bool
		allow []string
		deny  []string
	}{
		{`{}`, false, nil, nil},
		{`{"databases":null}`, false, nil, nil},
		{`{"databases":"*"}`, true, []string{"demo", "other"}, nil},
		{`{"databases":["demo"]}`, true, []string{"demo"}, []string{"other"}},
		{`{"databases":[]}`, true, nil, []string{"demo"}},
	} {
		var cl Claims
		if err := json.Unmarshal([]byte(c.json), &cl); err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if (cl.Databases != nil) != c.set {
			t.Errorf("%s: set = %v", c.json, cl.Databases != nil)
		}
		for _, db := range c.allow {
			if !cl.Databases.Permits(db) {
				t.Errorf("%s: %s denied", c.json, db)
			}
		}
		for _, db := range c.deny {
			if cl.Databases.Permits(db) {
				t.Errorf("%s: %s allowed", c.json, db)
			}
		}
	}
}

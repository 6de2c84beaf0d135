package ingress

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestVerifyJWT(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_700_000_000, 0)
	good := SignJWT(Claims{Database: "demo", Expires: now.Unix() + 60}, secret)
	payload := strings.Split(good, ".")[1]
	head := func(h string) string { return base64.RawURLEncoding.EncodeToString([]byte(h)) }
	cases := []struct {
		name, token, err string
	}{
		{"valid", good, ""},
		{"alg none", head(`{"alg":"none"}`) + "." + payload + ".", "algorithm none"},
		{"alg HS512", head(`{"alg":"HS512"}`) + "." + payload + "." + strings.Split(good, ".")[2], "algorithm HS512"},
		{"wrong key", SignJWT(Claims{Database: "demo", Expires: now.Unix() + 60}, []byte("x")), "bad signature"},
		{"tampered payload", strings.Split(good, ".")[0] + "." + head(`{"database":"other","exp":99999999999}`) + "." + strings.Split(good, ".")[2], "bad signature"},
		{"expired", SignJWT(Claims{Database: "demo", Expires: now.Unix()}, secret), "expired"},
		{"no exp", SignJWT(Claims{Database: "demo"}, secret), "expired or no exp"},
		{"not yet", SignJWT(Claims{Database: "demo", Expires: now.Unix() + 60, NotAfter: now.Unix() + 30}, secret), "not valid yet"},
		{"two parts", "a.b", "not a JWT"},
		{"garbage header", "!!!." + payload + ".x", "bad token encoding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims, err := VerifyJWT(c.token, secret, now)
			if c.err == "" {
				if err != nil || claims.Database != "demo" {
					t.Fatalf("claims %+v, err %v", claims, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
		})
	}
	if _, err := VerifyJWT(good, nil, now); err == nil {
		t.Fatal("empty secret must refuse every token")
	}
}

package ingress

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// Claims are the JWT claims dqm reads.
type Claims struct {
	Database string `json:"database"`
	Subject  string `json:"sub"`
	Expires  int64  `json:"exp"`
	NotAfter int64  `json:"nbf"`
}

var errUnauthorized = schemas.Errorf(schemas.CodeUnauthorized, "missing, invalid or expired bearer token")

// VerifyJWT checks an HS256 token against secret: the algorithm must be
// HS256 (alg:none and every other algorithm are refused, so a token cannot
// pick its own verification), the signature must match, and exp (required)
// and nbf must hold at now.
func VerifyJWT(token string, secret []byte, now time.Time) (*Claims, error) {
	if len(secret) == 0 {
		return nil, errors.New("no jwt secret configured")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, err
	}
	if header.Alg != "HS256" {
		return nil, errors.New("algorithm " + header.Alg + " is not accepted")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("bad signature encoding")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("bad signature")
	}
	var c Claims
	if err := decodeSegment(parts[1], &c); err != nil {
		return nil, err
	}
	if c.Expires == 0 || now.Unix() >= c.Expires {
		return nil, errors.New("expired or no exp")
	}
	if c.NotAfter != 0 && now.Unix() < c.NotAfter {
		return nil, errors.New("not valid yet")
	}
	return &c, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("bad token encoding")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("bad token JSON")
	}
	return nil
}

// SignJWT makes an HS256 token for claims (for tests and tooling).
func SignJWT(c Claims, secret []byte) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	b, _ := json.Marshal(c)
	p := enc.EncodeToString(b)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(h + "." + p))
	return h + "." + p + "." + enc.EncodeToString(mac.Sum(nil))
}

// bearer verifies the request's bearer token.
func (r *REST) bearer(req *http.Request) (*Claims, error) {
	auth := req.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return nil, errUnauthorized
	}
	c, err := VerifyJWT(strings.TrimSpace(token), r.cfg.JWTSecret, time.Now())
	if err != nil {
		return nil, &schemas.Error{Code: schemas.CodeUnauthorized, Message: errUnauthorized.Message, Err: err}
	}
	return c, nil
}

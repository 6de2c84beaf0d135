package ingress

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dqmhq/dqm/schemas"
)

// MinSecretBytes is the shortest HMAC secret NewAuth accepts (the config
// refuses shorter ones first).
const MinSecretBytes = 32

// AuthConfig says which bearer tokens the auth_* and alt_* endpoints
// accept. Every key source is optional; with none, auth is off and those
// endpoints answer 401 saying so.
type AuthConfig struct {
	// Secret is the HMAC key of HS256, HS384 and HS512 tokens.
	Secret []byte
	// PublicKeyFile is a PEM public key: RSA (RS256/384/512, PS256/384/512),
	// ECDSA (ES256, ES384 or ES512 by its curve) or Ed25519 (EdDSA).
	PublicKeyFile string
	// JWKSFile is a JSON Web Key Set (RSA, EC and OKP keys); a token's kid
	// picks its key, a token without kid is tried against the keys of its
	// algorithm.
	JWKSFile string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// Audience, when set, must be in the token's aud; Issuer, when set, must
	// equal its iss.
	Audience, Issuer string
	// AltRequiresDatabasesClaim makes alt_* refuse a token without a
	// databases claim (403) instead of letting it target any database.
	AltRequiresDatabasesClaim bool
	// Now is the clock (default time.Now), for tests.
	Now func() time.Time
}

// Auth verifies bearer tokens. Its zero value (and a nil *Auth) has no
// key: every token is refused with a message saying auth is not configured.
type Auth struct {
	parser     *jwt.Parser
	secret     []byte
	keys       []key // the PEM key and the JWKS keys
	algs       []string
	altNeedsDB bool
}

// key is one public key with the algorithms it may verify.
type key struct {
	kid  string
	pub  any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	algs []string
}

var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// NewAuth loads the keys of cfg (reading its files) and returns a verifier.
// alg "none" is never accepted, and a token may only use an algorithm of a
// configured key of its family, so it cannot choose its own verification
// (an HS256 token "signed" with an RSA public key fails).
func NewAuth(cfg AuthConfig) (*Auth, error) {
	a := &Auth{altNeedsDB: cfg.AltRequiresDatabasesClaim}
	if len(cfg.Secret) > 0 {
		if len(cfg.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("auth.jwt_secret: at least %d bytes required", MinSecretBytes)
		}
		a.secret = cfg.Secret
		a.algs = append(a.algs, hmacAlgs...)
	}
	if cfg.PublicKeyFile != "" {
		b, err := os.ReadFile(cfg.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt_public_key_file: %w", err)
		}
		k, err := parsePEM(b)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt_public_key_file %s: %w", cfg.PublicKeyFile, err)
		}
		a.keys = append(a.keys, k)
	}
	if cfg.JWKSFile != "" {
		b, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("auth.jwks_file: %w", err)
		}
		ks, err := parseJWKS(b)
		if err != nil {
			return nil, fmt.Errorf("auth.jwks_file %s: %w", cfg.JWKSFile, err)
		}
		a.keys = append(a.keys, ks...)
	}
	for _, k := range a.keys {
		for _, alg := range k.algs {
			if !slices.Contains(a.algs, alg) {
				a.algs = append(a.algs, alg)
			}
		}
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(a.algs), jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt()}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// Enabled reports whether any key is configured.
func (a *Auth) Enabled() bool { return a != nil && len(a.algs) > 0 }

// Algorithms lists the accepted algorithms (never a key).
func (a *Auth) Algorithms() []string {
	if a == nil {
		return nil
	}
	return slices.Clone(a.algs)
}

// Claims are the JWT claims dqm reads, beside the registered ones (exp,
// nbf, iat, aud, iss, sub).
type Claims struct {
	// Database is where auth_* endpoints run.
	Database string `json:"database,omitempty"`
	// Databases limits the databases alt_* may target; nil means the
	// claim is absent.
	Databases DatabaseList `json:"databases,omitempty"`
	jwt.RegisteredClaims
}

// DatabaseList is the databases claim: an array of names, or "*" for any.
type DatabaseList []string

// UnmarshalJSON accepts ["a","b"], "*" (any database) and null (absent).
func (l *DatabaseList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = nil
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "*" {
			return errors.New(`databases claim: want an array of names or "*"`)
		}
		*l = DatabaseList{"*"}
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return errors.New(`databases claim: want an array of names or "*"`)
	}
	*l = append(DatabaseList{}, names...)
	return nil
}

// Permits reports whether db is in the list ("*" permits any).
func (l DatabaseList) Permits(db string) bool {
	return slices.Contains(l, "*") || slices.Contains(l, db)
}

// authError is a refused token: 401 with its WWW-Authenticate challenge
// (RFC 6750), or 403 for a valid token that does not permit the database.
type authError struct {
	code      schemas.Code
	msg       string
	challenge string
	err       error
}

func (e *authError) Error() string              { return e.msg }
func (e *authError) Unwrap() error              { return e.err }
func (e *authError) ErrorCode() schemas.Code    { return e.code }
func (e *authError) ClientMessage() string      { return e.msg }
func (e *authError) setChallenge(h http.Header) { h.Set("WWW-Authenticate", e.challenge) }

const realm = `Bearer realm="dqm"`

func invalidToken(msg string, err error) *authError {
	return &authError{code: schemas.CodeUnauthorized, msg: msg, err: err,
		challenge: realm + `, error="invalid_token", error_description=` + strconv.Quote(msg)}
}

func forbidden(db string) *authError {
	return &authError{code: schemas.CodeForbidden, msg: "token does not permit database " + strconv.Quote(db),
		challenge: realm + `, error="insufficient_scope"`}
}

var (
	errNoToken = &authError{code: schemas.CodeUnauthorized, challenge: realm,
		msg: "missing bearer token (Authorization: Bearer <JWT>)"}
	errNotBearer = &authError{code: schemas.CodeUnauthorized, challenge: realm,
		msg: "the Authorization header must be Bearer <JWT>"}
	errAuthOff = &authError{code: schemas.CodeUnauthorized, challenge: realm,
		msg: "auth is not configured on this server (auth.jwt_secret, auth.jwt_public_key_file or auth.jwks_file)"}
)

// Verify checks a token's signature, algorithm and registered claims and
// returns its claims. Its refusals say which check failed: an algorithm
// this server does not verify, a kid no configured key has, a signature
// that does not match the key, an expired token (and when), a time claim
// that is not a NumericDate.
func (a *Auth) Verify(token string) (*Claims, error) {
	if !a.Enabled() {
		return nil, errAuthOff
	}
	alg, ok := tokenAlg(token)
	if !ok {
		return nil, invalidToken("invalid bearer token: malformed", nil)
	}
	if !slices.Contains(a.algs, alg) {
		return nil, invalidToken(fmt.Sprintf("invalid bearer token: algorithm %s is not accepted here (this server verifies %s)",
			shown(alg), strings.Join(a.algs, ", ")), nil)
	}
	var c Claims
	if _, err := a.parser.ParseWithClaims(token, &c, a.keyFor); err != nil {
		why := reason(err)
		if errors.Is(err, jwt.ErrTokenExpired) && c.ExpiresAt != nil {
			why = "expired at " + c.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return nil, invalidToken("invalid bearer token: "+why, err)
	}
	return &c, nil
}

// tokenAlg reads the alg of a token's header, before anything is
// verified: the refusal of an algorithm is told apart from a signature
// that does not match.
func tokenAlg(token string) (string, bool) {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "", false
	}
	return h.Alg, true
}

// shown is a token's own text (alg, kid) as a message quotes it.
func shown(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strconv.QuoteToASCII(s)
}

// keyError is why keyFor found no key: named in the 401.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

// reason names why jwt refused a token, in words safe to show.
func reason(err error) string {
	var ke *keyError
	var ce *claimError
	switch {
	case errors.As(err, &ke):
		return ke.msg
	case errors.As(err, &ce):
		return ce.msg
	}
	for _, r := range []struct {
		err  error
		text string
	}{
		{jwt.ErrTokenMalformed, "malformed"},
		{jwt.ErrTokenSignatureInvalid, "signature does not match the configured key (auth.jwt_secret, auth.jwt_public_key_file or auth.jwks_file)"},
		{jwt.ErrTokenUnverifiable, "no configured key verifies it"},
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenNotValidYet, "not valid yet (nbf)"},
		{jwt.ErrTokenUsedBeforeIssued, "issued in the future (iat)"},
		{jwt.ErrTokenInvalidAudience, "wrong audience"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
	} {
		if errors.Is(err, r.err) {
			return r.text
		}
	}
	if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		for _, c := range []string{"exp", "aud", "iss"} {
			if strings.Contains(err.Error(), c+" claim is required") {
				return "no " + c + " claim"
			}
		}
		return "a required claim is missing"
	}
	return "invalid claims"
}

// keyFor picks the keys that may verify t: the secret for HS*; else, for
// a token with a kid, the key with that kid and nothing else (a kid no key
// has is refused, not tried against the others); else every key of the
// token's algorithm. The parser has already refused an algorithm outside
// a.algs.
func (a *Auth) keyFor(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if slices.Contains(hmacAlgs, alg) {
		if a.secret == nil {
			return nil, &keyError{"no auth.jwt_secret for " + alg}
		}
		return a.secret, nil
	}
	if kid, ok := t.Header["kid"]; ok {
		s, _ := kid.(string)
		for _, k := range a.keys {
			if k.kid == s && s != "" {
				if !slices.Contains(k.algs, alg) {
					return nil, &keyError{fmt.Sprintf("the key with kid %s does not verify %s", shown(s), alg)}
				}
				return k.pub, nil
			}
		}
		return nil, &keyError{fmt.Sprintf("no configured key has kid %s", shown(fmt.Sprint(kid)))}
	}
	var set jwt.VerificationKeySet
	for _, k := range a.keys {
		if slices.Contains(k.algs, alg) {
			set.Keys = append(set.Keys, k.pub)
		}
	}
	if len(set.Keys) == 0 {
		return nil, &keyError{"no configured key verifies " + alg}
	}
	return set, nil
}

// algsFor lists the algorithms a public key may verify.
func algsFor(pub any) ([]string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits: at least 2048 required", k.N.BitLen())
		}
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, nil
	case *ecdsa.PublicKey:
		switch k.Curve.Params().Name {
		case "P-256":
			return []string{"ES256"}, nil
		case "P-384":
			return []string{"ES384"}, nil
		case "P-521":
			return []string{"ES512"}, nil
		}
		return nil, fmt.Errorf("unsupported curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return []string{"EdDSA"}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

// SignJWT makes an HS256 token for claims (for tests and tooling).
func SignJWT(c Claims, secret []byte) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	return s
}

// bearer verifies the request's bearer token; the scheme is matched
// case-insensitively (RFC 9110 §11.1). Two Authorization headers are a
// 400: which one would count is anyone's guess.
func (r *REST) bearer(req *http.Request) (*Claims, error) {
	if len(req.Header["Authorization"]) > 1 {
		return nil, schemas.Errorf(schemas.CodeBadRequest, "the Authorization header is given more than once: give it once")
	}
	h := req.Header.Get("Authorization")
	if h == "" {
		if !r.cfg.Auth.Enabled() {
			return nil, errAuthOff
		}
		return nil, errNoToken
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, errNotBearer
	}
	return r.cfg.Auth.Verify(strings.TrimSpace(token))
}

// permit checks that an alt_* token may target db.
func (r *REST) permit(c *Claims, db string) error {
	if c.Databases == nil {
		if r.cfg.Auth.altNeedsDB {
			return &authError{code: schemas.CodeForbidden, challenge: realm + `, error="insufficient_scope"`,
				msg: "token has no databases claim, which this server requires for alt_* endpoints"}
		}
		return nil
	}
	if !c.Databases.Permits(db) {
		return forbidden(db)
	}
	return nil
}

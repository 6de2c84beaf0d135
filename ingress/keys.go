package ingress

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// parsePEM reads one PEM public key (PKIX "PUBLIC KEY", or PKCS#1 "RSA
// PUBLIC KEY").
func parsePEM(b []byte) (key, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return key{}, errors.New("no PEM block")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return key{}, fmt.Errorf("PEM block %q: want PUBLIC KEY (a private key does not belong here)", block.Type)
	}
	if err != nil {
		return key{}, err
	}
	algs, err := algsFor(pub)
	if err != nil {
		return key{}, err
	}
	return key{pub: pub, algs: algs}, nil
}

// jwk is one JSON Web Key (RFC 7517/7518/8037), public members only.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

// parseJWKS reads a key set {"keys":[...]}. Keys for encryption (use
// "enc") are skipped; anything else that is not a valid public signing key
// is an error, so a typo does not silently disable a key.
func parseJWKS(b []byte) ([]key, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	var out []key
	for i, j := range set.Keys {
		if j.Use == "enc" {
			continue
		}
		k, err := j.key()
		if err != nil {
			return nil, fmt.Errorf("keys[%d] (kid %q): %w", i, j.Kid, err)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("no signing keys")
	}
	return out, nil
}

func (j jwk) key() (key, error) {
	if j.D != "" {
		return key{}, errors.New("a private key does not belong in the JWKS file")
	}
	var pub any
	switch j.Kty {
	case "RSA":
		n, err := b64int(j.N)
		if err != nil {
			return key{}, fmt.Errorf("n: %w", err)
		}
		e, err := b64int(j.E)
		if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return key{}, errors.New("e: want a small base64url integer")
		}
		pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case "EC":
		curve, size := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[j.Crv], 0
		if curve == nil {
			return key{}, fmt.Errorf("crv %q: want P-256, P-384 or P-521", j.Crv)
		}
		size = (curve.Params().BitSize + 7) / 8
		x, errX := base64.RawURLEncoding.DecodeString(j.X)
		y, errY := base64.RawURLEncoding.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return key{}, fmt.Errorf("x, y: want %d-byte base64url coordinates", size)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(curve, slices.Concat([]byte{4}, x, y))
		if err != nil {
			return key{}, err
		}
		pub = k
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return key{}, errors.New("want crv Ed25519 with a 32-byte base64url x")
		}
		pub = ed25519.PublicKey(x)
	default:
		return key{}, fmt.Errorf("kty %q: want RSA, EC or OKP", j.Kty)
	}
	algs, err := algsFor(pub)
	if err != nil {
		return key{}, err
	}
	if j.Alg != "" {
		if !slices.Contains(algs, j.Alg) {
			return key{}, fmt.Errorf("alg %s does not fit a %s key", j.Alg, j.Kty)
		}
		algs = []string{j.Alg}
	}
	return key{kid: j.Kid, pub: pub, algs: algs}, nil
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("want a base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}

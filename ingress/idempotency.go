package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/dqmhq/dqm/schemas"
)

// headerIdempotencyKey is the IETF httpapi draft's request header
// (draft-ietf-httpapi-idempotency-key-header), canonical form.
const headerIdempotencyKey = "Idempotency-Key"

// maxIdempotencyKey bounds a key's length, in bytes.
const maxIdempotencyKey = 255

// idempotencyKey is the request's Idempotency-Key header ("" when absent);
// more than one, an empty one, one over 255 bytes or one with a control
// character is a 400.
func idempotencyKey(req *http.Request) (string, error) {
	vs, ok := req.Header[headerIdempotencyKey]
	if !ok {
		return "", nil
	}
	bad := func(why string) error {
		return schemas.Errorf(schemas.CodeBadRequest, "Idempotency-Key header: "+why)
	}
	if len(vs) != 1 {
		return "", bad("give it once")
	}
	k := vs[0]
	switch {
	case k == "":
		return "", bad("empty")
	case len(k) > maxIdempotencyKey:
		return "", bad(fmt.Sprintf("%d bytes, at most %d", len(k), maxIdempotencyKey))
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < ' ' || c == 0x7f {
			return "", bad("control characters are not allowed")
		}
	}
	return k, nil
}

// KeyRequestID is the request id of an Idempotency-Key: scoped by
// database and caller (who: "public", or "sub:" and the token's sub), so
// two callers' equal keys are two requests, and of a fixed shape that
// fits a reply subject whatever the key holds.
func KeyRequestID(db, who, key string) string {
	h := sha256.Sum256([]byte(db + "\x00" + who + "\x00" + key))
	return "k-" + hex.EncodeToString(h[:])[:32]
}

package ingress

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/dqmhq/dqm/schemas"
)

// The adapter's part of the operator console (internal/console): the
// admin check of its endpoints and its "try it" query. The console's
// pages and data live in internal/console; auth stays here.

// AdminOnly wraps h: a request needs a valid bearer token whose claim
// named claim (config auth.admin_claim) is the JSON value true. No token,
// an invalid one or auth not configured is 401 with the challenge; a
// valid token without the claim is 403.
func (r *REST) AdminOnly(claim string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, err := r.bearer(req); err != nil {
			writeError(w, err, "", 0)
			return
		}
		_, token, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		if !claimTrue(strings.TrimSpace(token), claim) {
			writeError(w, &authError{code: schemas.CodeForbidden, challenge: realm + `, error="insufficient_scope"`,
				msg: "token does not carry the admin claim " + strconv.Quote(claim) + ": true (auth.admin_claim)"}, "", 0)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// claimTrue reports whether a verified token's payload has claim: true.
// Verify has checked the signature and decoded this payload already, so
// it is well-formed; only its one member is read here.
func claimTrue(token, claim string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return false
	}
	return bytes.Equal(bytes.TrimSpace(claims[claim]), []byte("true"))
}

// AdminQuery is the console's "try it": the body of /api/conduit/query
// ({"database", "query_ref", "params"}) run with an operator's rights —
// private entries and writes included — and answered as that endpoint
// answers, within the same body and response limits. Mount it behind
// AdminOnly, or the console's loopback gate when auth is off.
func (r *REST) AdminQuery(w http.ResponseWriter, req *http.Request) {
	var body single
	if err := r.decode(w, req, &body); err != nil {
		writeError(w, err, "", 0)
		return
	}
	if body.QueryRef == nil || body.Database == nil {
		writeError(w, schemas.Errorf(schemas.CodeBadRequest, "query_ref and database are required"), deref(body.Database), 0)
		return
	}
	writeAnswer(w, r.run(req.Context(), *body.Database, *body.QueryRef, body.Params, "", true, true, ""), r.cfg.MaxResponseBytes)
}

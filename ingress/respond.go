package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Writing response bodies: one query's answer (the reply's own bytes when
// it has them), its failure, or any JSON value.

func message(err error) string {
	var e *schemas.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// writeError writes the failure body of err; an auth error also sets its
// WWW-Authenticate challenge.
func writeError(w http.ResponseWriter, err error, db string, ref int64) {
	var ae *authError
	if errors.As(err, &ae) {
		ae.setChallenge(w.Header())
	}
	writeResult(w, schemas.Failure(db, ref, err), 0)
}

// writeAnswer writes one query's answer: the reply's own bytes when it
// has them (a cache hit's with its cached fields put in), else the
// encoded result.
func writeAnswer(w http.ResponseWriter, a *cache.Answer, limit int64) {
	res := &a.Result
	if a.Body == nil || !res.Success {
		writeResult(w, res, limit)
		return
	}
	b := a.Body
	if res.Cached {
		var ok bool
		if b, ok = wire.AppendCachedBody(make([]byte, 0, len(b)+32), b, res.CacheAgeMS); !ok {
			writeResult(w, res, limit)
			return
		}
	}
	if limit > 0 && int64(len(b)) > limit {
		writeResult(w, res, limit) // the 413
		return
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	h["Content-Type"] = contentJSON
	w.WriteHeader(status)
	w.Write(b)
	w.Write(newline) // b may be the reply's or the cache's: not appended to
}

// newline ends every body, as json.Encoder ends the others.
var newline = []byte{'\n'}

// contentJSON is the Content-Type of every body, shared: net/http only
// reads it.
var contentJSON = []string{"application/json"}

// writeResult writes one query's body with its status; the status field
// itself belongs to replies and batch entries, not to the single body. A
// body over limit (when limit > 0) is answered 413 too_large instead.
func writeResult(w http.ResponseWriter, res *schemas.Result, limit int64) {
	status := res.Status
	if status == 0 {
		status = res.Error.Status()
	}
	r := *res
	r.Status = 0
	b := append(r.AppendJSON(make([]byte, 0, 256+len(r.Rows))), '\n')
	if limit > 0 && int64(len(b)-1) > limit {
		writeResult(w, schemas.Failure(res.Database, res.QueryRef, schemas.Errorf(schemas.CodeTooLarge, fmt.Sprintf(
			"result of %d bytes is over http.max_response_bytes (%d); the query ran once and is not re-run: narrow it",
			len(b)-1, limit))), 0)
		return
	}
	switch status {
	case http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "5")
		}
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
	case http.StatusUnauthorized:
		if w.Header().Get("WWW-Authenticate") == "" {
			w.Header().Set("WWW-Authenticate", realm)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

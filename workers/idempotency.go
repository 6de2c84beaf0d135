package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/schemas"
)

// idempotency answers a write whose request id already committed with
// the outcome recorded by its first attempt, and otherwise has execute
// record the id first and the outcome last in the write's own
// transaction (call.record), so the record exists exactly when the write
// committed, whatever happened between commit and reply. A record made
// with another body (ref or params) is refused 422 idempotency_mismatch.
// A write that fails after a twin of it (the same id, delivered twice)
// committed, on its key or on the record's, is answered from the twin's
// record.
func (w *Worker) idempotency(next runner) runner {
	return func(ctx context.Context, r *request, c call) *result {
		if !c.query.Writes || !w.cfg.Idempotent {
			return next(ctx, r, c)
		}
		c.record = bodyHash(c.query.Ref, r.event.Data.Params, c.values)
		rec, done, err := w.applied(ctx, r.event.ID)
		if err != nil {
			return failure(r, err)
		}
		if done {
			return w.replay(r, c, rec, "replay: this request was already applied; this is its first outcome")
		}
		res := next(ctx, r, c)
		if res.err != nil && schemas.CodeOf(res.err) == schemas.CodeDatabaseError {
			if rec, done, err := w.applied(ctx, r.event.ID); err == nil && done {
				return w.replay(r, c, rec, "replay: a concurrent delivery of this request applied it; this is its outcome")
			}
		}
		return res
	}
}

// recorded is a write's statements inside its record: the id and body
// hash first, the outcome last, its text made by outcome from the result
// of the statements before it (engines.Statement.Finish).
func (w *Worker) recorded(r *request, c call, outcome func(*engines.Result) []byte) []engines.Statement {
	own := w.cfg.Engine.System()
	stmts := make([]engines.Statement, 0, len(c.stmts)+2)
	stmts = append(stmts, own.Record(r.event.ID, c.query.Ref, c.record))
	stmts = append(stmts, c.stmts...)
	return append(stmts, own.Outcome(r.event.ID, outcome))
}

// bodyHash identifies a write's ref and params, the body a request id is
// bound to: the params in their canonical form (params.AppendCanonical,
// the bytes the REST adapter publishes), so the same params written
// differently are the same body.
func bodyHash(ref int64, raw params.Raw, vals params.Values) string {
	var buf [256]byte
	b := strconv.AppendInt(buf[:0], ref, 10)
	b = append(b, 0)
	b = params.AppendCanonical(b, raw, vals)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// legacyBodyHash is the body hash of records made before bodyHash: the
// values by name as json.Marshal writes them, without their type groups.
// It is computed only when a record's hash is not bodyHash's, so that a
// key retried across the upgrade still matches its record; records older
// than idempotency_window_s are pruned, so after one window this can go.
func legacyBodyHash(ref int64, vals params.Values) string {
	b, _ := json.Marshal(vals)
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(ref, 10)))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// sameBody reports whether rec was made for the body of c.
func sameBody(rec engines.Recorded, c call) bool {
	switch rec.BodyHash {
	case c.record:
		return true
	case "": // a record made before dqm_requests had body_hash: its ref only
		return rec.Ref == c.query.Ref
	}
	return rec.BodyHash == legacyBodyHash(c.query.Ref, c.values)
}

// replay answers a write from its record: the first attempt's outcome,
// with msg, or 422 when the record was made with another body. A record
// from before outcomes were kept is answered as applied, without rows.
// The tables are invalidated again: the first attempt may have died
// before it did so.
//
// The outcome is the first attempt's reply body as it was published
// (execute.go). Records made before it was stored as published lack
// queue_used and status and carry execution_time_ms 0; both forms read
// the same here, and the reply is encoded again (its message changes).
func (w *Worker) replay(r *request, c call, rec engines.Recorded, msg string) *result {
	if !sameBody(rec, c) {
		return failure(r, schemas.Errorf(schemas.CodeIdempotencyMismatch, fmt.Sprintf(
			"request id %s was first used for a write with another body (ref %d or other params); use a new key", r.event.ID, rec.Ref)))
	}
	w.invalidate(r.event.Database, c.query.Ref, c.query.Tables)
	res := &schemas.Result{}
	if rec.Outcome == nil || json.Unmarshal(rec.Outcome, res) != nil {
		return &result{reply: &schemas.Result{Success: true, QueryRef: c.query.Ref, Database: r.event.Database,
			Description: c.query.Description, Message: msg}}
	}
	res.Cached, res.CacheAgeMS, res.QueueUsed = false, 0, ""
	if res.Message == "" {
		res.Message = msg
	} else {
		res.Message = msg + "; " + res.Message
	}
	return &result{reply: res}
}

package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/schemas"
)

// resolve ends the first chain: it finds the catalog entry, binds the
// parameters and hands the call to the second chain (next). The entry's
// timeout bounds everything after (dqm's own statements included).
func (w *Worker) resolve(next runner) handler {
	return func(ctx context.Context, r *request) *result {
		cat := w.cfg.Catalog()
		if cat == nil {
			return failure(r, schemas.Errorf(schemas.CodeUnavailable, "catalog not loaded"))
		}
		q, ok := cat.Lookup(r.event.Data.QueryRef)
		if !ok {
			return failure(r, schemas.Errorf(schemas.CodeQueryNotFound, "queryref not found or not public"))
		}
		vals, err := params.Decode(params.Raw(r.event.Data.Params))
		if err == nil {
			err = vals.Check(q.Template)
		}
		if err != nil {
			return failure(r, err)
		}
		stmts := make([]engines.Statement, len(q.Statements))
		for i, s := range q.Statements {
			args, err := vals.Bind(s)
			if err != nil {
				return failure(r, err)
			}
			stmts[i] = engines.Statement{SQL: s.SQL, Args: args}
		}
		// The earlier of the request's deadline and the entry's timeout.
		until := time.Now().Add(q.Timeout)
		if d := r.event.Deadline; !d.IsZero() && d.Before(until) {
			until = d
		}
		ctx, cancel := context.WithDeadline(ctx, until)
		defer cancel()
		return next(ctx, r, call{query: q, values: vals, stmts: stmts})
	}
}

// lane keeps the direct lane to its entries: a request there for an
// entry that is not on it (a write never is) is answered 400 without
// running; the client should have sent it to its queue.
func (w *Worker) lane(next runner) runner {
	return func(ctx context.Context, r *request, c call) *result {
		if r.direct != nil && (!c.query.Direct || c.query.Writes) {
			return failure(r, schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf(
				"ref %d is not on the direct lane of database %s: send it to its queue (%s)", c.query.Ref, w.cfg.Database, c.query.Queue)))
		}
		return next(ctx, r, c)
	}
}

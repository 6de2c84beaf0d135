package workers

import (
	"context"
	"time"

	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// decode reads the CloudEvent. A malformed one still goes on, so that the
// reply subject is checked and the requester told why (check answers it).
func (w *Worker) decode(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		r.event, r.malformed = wire.DecodeRequest(r.msg.Subject(), r.msg.Headers(), r.msg.Data())
		if r.direct != nil {
			r.event.ReplyTo = r.direct.req.Reply()
		}
		return next(ctx, r)
	}
}

// guard is the trust boundary: a request whose reply subject is not an
// allowed inbox (schemas.CheckReplySubject) is not run and not answered
// anywhere; it is dead-lettered and terminated, never redelivered.
func (w *Worker) guard(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		if err := schemas.CheckReplySubject(r.event.ReplyTo, w.cfg.ReplyPrefixes); err != nil {
			w.log.WarnContext(ctx, "request rejected: not run", "request_id", r.event.ID, "ref", r.event.Data.QueryRef, "err", err)
			w.deadLetter(r, reasonReplySubject)
			return &result{settle: terminate, reason: reasonReplySubject, err: err}
		}
		return next(ctx, r)
	}
}

// check answers a malformed request bad_request and one for another
// database invalid_database, without running either.
func (w *Worker) check(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		if r.malformed != nil {
			return failure(r, schemas.Errorf(schemas.CodeBadRequest, r.malformed.Error()))
		}
		if r.event.Database != w.cfg.Database {
			return failure(r, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection"))
		}
		return next(ctx, r)
	}
}

// deadline answers 408 a request that expired while queued, without
// running it; otherwise its deadline bounds everything after (resolve
// sets it, with the entry's timeout, as one context: nothing between the
// two waits on anything).
func (w *Worker) deadline(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		if d := r.event.Deadline; !d.IsZero() && !time.Now().Before(d) {
			return failure(r, schemas.Errorf(schemas.CodeTimeout, "deadline passed while queued"))
		}
		return next(ctx, r)
	}
}

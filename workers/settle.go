package workers

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Reasons a request is terminated or redelivered (result.reason).
const (
	reasonReplySubject = schemas.DLQReasonReplySubject
	reasonPanic        = schemas.DLQReasonPanic
	reasonLanding      = "landing"
	reasonReplyFailed  = "reply_failed"
)

// recovery turns a panic anywhere inside into a dead letter (reason panic,
// the request's own headers and data), a 500 internal to a valid reply
// subject that has had no reply, and a terminated message. The connection
// is dropped: a statement may have been cut anywhere. The worker goes on
// with the next request.
func (w *Worker) recovery(next handler) handler {
	return func(ctx context.Context, r *request) (res *result) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			id := r.msg.Headers().Get(schemas.HeaderID)
			if r.event != nil {
				ctx = tracing.Extract(ctx, r.event.TraceParent, r.event.TraceState)
			}
			w.log.ErrorContext(ctx, "request panicked; dead-lettered", "request_id", id, "panic", p, "stack", string(debug.Stack()))
			w.closeConn()
			w.deadLetter(r, reasonPanic)
			if r.event != nil && !r.replied && schemas.CheckReplySubject(r.event.ReplyTo, w.cfg.ReplyPrefixes) == nil {
				fail := failure(r, schemas.Errorf(schemas.CodeInternal, "internal error"))
				if err := w.publish(r, fail); err != nil {
					w.log.WarnContext(ctx, "reply after panic", "request_id", id, "err", err)
				}
			}
			if !r.settled {
				if err := r.msg.Term(); err != nil {
					w.log.Warn("term", "request_id", id, "err", err)
				}
			}
			res = &result{settle: terminate, reason: reasonPanic, err: fmt.Errorf("panic: %v", p)}
		}()
		return next(ctx, r)
	}
}

// deadLetter publishes the request to dqm.<db>.dlq as it arrived. The
// direct lane keeps nothing: its requester waits on its own request, and
// a read has nothing to replay; the rejection is still counted.
func (w *Worker) deadLetter(r *request, reason string) {
	if r.direct != nil {
		return
	}
	dl := wire.DeadLetter{Subject: r.msg.Subject(), Header: r.msg.Headers(), Data: r.msg.Data(),
		Reason: reason, Consumer: schemas.ConsumerName(w.cfg.Database, r.tag)}
	if md, err := r.msg.Metadata(); err == nil {
		dl.Consumer, dl.Deliveries, dl.StreamSeq = md.Consumer, md.NumDelivered, md.Sequence.Stream
	}
	// A core publish: stream DQM_DLQ (created before any worker starts)
	// captures it, and a worker never waits on a PubAck while it holds a
	// request it is giving up on.
	if err := w.cfg.NC.PublishMsg(wire.NewDeadLetter(w.cfg.Database, dl)); err != nil {
		w.log.Warn("dead letter", "request_id", r.msg.Headers().Get(schemas.HeaderID), "err", err)
		return
	}
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.DeadLetter(w.cfg.Database, reason)
	}
}

// settle acks, NAKs or terminates the message after the reply is out
// (reply-before-ack: a crash between the two redelivers a request whose
// requester already has its answer, which it ignores: one request, one
// reply, by id). A request the landing bound cut short is NAKed with a
// delay that outlasts this instance's pulls (pull.go), so that it goes to
// another instance instead of bouncing between workers that all land,
// each delivery counting against MaxDeliver.
func (w *Worker) settle(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		res := next(ctx, r)
		var err error
		switch {
		case res.settle == ack:
			err = r.msg.Ack()
		case res.settle == redeliver && res.reason == reasonLanding:
			err = r.msg.NakWithDelay(landingRedelivery)
		case res.settle == redeliver:
			err = r.msg.Nak()
		case res.settle == terminate:
			err = r.msg.Term()
		}
		r.settled = true
		if err != nil {
			w.log.Warn("settle", "request_id", r.msg.Headers().Get(schemas.HeaderID), "settle", res.settle, "err", err)
		}
		return res
	}
}

// landing: once the landing bound passed (Config.Abort), a request cut
// short is left for redelivery to another instance, not answered. One
// that finished is answered as usual.
func (w *Worker) landing(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		res := next(ctx, r)
		if res.err != nil && w.aborted() {
			w.log.WarnContext(ctx, "landing bound passed: request left for redelivery", "request_id", r.event.ID)
			return &result{settle: redeliver, reason: reasonLanding, err: res.err}
		}
		return res
	}
}

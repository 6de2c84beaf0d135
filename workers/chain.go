package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// chain is a worker's request path, outermost first (doc.go lists it).
func (w *Worker) chain() Handler {
	return Chain(w.execute,
		w.observe, w.recovery, w.ack, w.decode, w.trace, w.guard, w.reply, w.encode,
		w.landing, w.check, w.deadline, w.resolve, w.lane, w.idempotency, w.retry)
}

// Reasons a request is terminated or redelivered (Result.Reason).
const (
	reasonReplySubject = schemas.DLQReasonReplySubject
	reasonPanic        = schemas.DLQReasonPanic
	reasonLanding      = "landing"
	reasonReplyFailed  = "reply_failed"
)

// observe counts every request: answered ones by outcome (Observe or
// Metrics), terminated ones by reason (dqm_requests_rejected_total).
// Redelivered ones are counted when they are answered.
func (w *Worker) observe(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		res := next(ctx, r)
		if res.Settle == Redeliver {
			return res
		}
		w.processed.Add(1)
		if res.Settle == Terminate {
			w.failed.Add(1)
			if w.cfg.Metrics != nil {
				w.cfg.Metrics.Reject(w.cfg.Database, res.Reason)
			}
			return res
		}
		var code schemas.Code
		if res.Reply != nil && !res.Reply.Success {
			w.failed.Add(1)
			code = res.Reply.Error
		}
		var queued time.Duration
		if r.Event != nil && !r.Event.Time.IsZero() {
			queued = r.Pulled.Sub(r.Event.Time)
		}
		ran := time.Since(r.Pulled)
		switch {
		case w.cfg.Observe != nil:
			w.cfg.Observe(r.Tag, code, queued, ran)
		case w.cfg.Metrics != nil:
			w.cfg.Metrics.Observe(w.cfg.Database, r.Tag, string(code), queued, ran)
		}
		return res
	}
}

// recovery turns a panic anywhere inside into a dead letter (reason panic,
// the request's own headers and data), a 500 internal to a valid reply
// subject that has had no reply, and a terminated message. The connection
// is dropped: a statement may have been cut anywhere. The worker goes on
// with the next request.
func (w *Worker) recovery(next Handler) Handler {
	return func(ctx context.Context, r *Request) (res *Result) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			id := r.Msg.Headers().Get(schemas.HeaderID)
			if r.Event != nil {
				ctx = tracing.Extract(ctx, r.Event.TraceParent, r.Event.TraceState)
			}
			w.log.ErrorContext(ctx, "request panicked; dead-lettered", "request_id", id, "panic", p, "stack", string(debug.Stack()))
			w.closeConn()
			w.deadLetter(r, reasonPanic)
			if r.Event != nil && !r.replied && schemas.CheckReplySubject(r.Event.ReplyTo, w.cfg.ReplyPrefixes) == nil {
				fail := failure(r, schemas.Errorf(schemas.CodeInternal, "internal error"))
				fail.Reply.QueueUsed = r.Tag
				if err := w.publish(r, r.Event.Reply(w.cfg.Source, fail.Reply.AppendJSON(nil)), fail.Reply); err != nil {
					w.log.WarnContext(ctx, "reply after panic", "request_id", id, "err", err)
				}
			}
			if !r.settled {
				if err := r.Msg.Term(); err != nil {
					w.log.Warn("term", "request_id", id, "err", err)
				}
			}
			res = &Result{Settle: Terminate, Reason: reasonPanic, Err: fmt.Errorf("panic: %v", p)}
		}()
		return next(ctx, r)
	}
}

// deadLetter publishes the request to dqm.<db>.dlq as it arrived. The
// direct lane keeps nothing: its requester waits on its own request, and
// a read has nothing to replay; the rejection is still counted.
func (w *Worker) deadLetter(r *Request, reason string) {
	if r.direct != nil {
		return
	}
	dl := wire.DeadLetter{Subject: r.Msg.Subject(), Header: r.Msg.Headers(), Data: r.Msg.Data(),
		Reason: reason, Consumer: schemas.ConsumerName(w.cfg.Database, r.Tag)}
	if md, err := r.Msg.Metadata(); err == nil {
		dl.Consumer, dl.Deliveries, dl.StreamSeq = md.Consumer, md.NumDelivered, md.Sequence.Stream
	}
	// A core publish: stream DQM_DLQ (created before any worker starts)
	// captures it, and a worker never waits on a PubAck while it holds a
	// request it is giving up on.
	if err := w.cfg.NC.PublishMsg(wire.NewDeadLetter(w.cfg.Database, dl)); err != nil {
		w.log.Warn("dead letter", "request_id", r.Msg.Headers().Get(schemas.HeaderID), "err", err)
		return
	}
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.DeadLetter(w.cfg.Database, reason)
	}
}

// ack settles the message after the reply is out (reply-before-ack: a
// crash between the two redelivers a request whose requester already has
// its answer, which it ignores: one request, one reply, by id).
func (w *Worker) ack(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		res := next(ctx, r)
		var err error
		switch res.Settle {
		case Ack:
			err = r.Msg.Ack()
		case Redeliver:
			err = r.Msg.Nak()
		case Terminate:
			err = r.Msg.Term()
		}
		r.settled = true
		if err != nil {
			w.log.Warn("settle", "request_id", r.Msg.Headers().Get(schemas.HeaderID), "settle", res.Settle, "err", err)
		}
		return res
	}
}

// decode reads the CloudEvent. A malformed one still goes on, so that the
// reply subject is checked and the requester told why (check answers it).
func (w *Worker) decode(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		r.Event, r.Malformed = wire.DecodeRequest(r.Msg.Subject(), r.Msg.Headers(), r.Msg.Data())
		if r.direct != nil {
			r.Event.ReplyTo = r.direct.req.Reply()
		}
		return next(ctx, r)
	}
}

// guard is the trust boundary: a request whose reply subject is not an
// allowed inbox (schemas.CheckReplySubject) is not run and not answered
// anywhere; it is dead-lettered and terminated, never redelivered.
func (w *Worker) guard(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		if err := schemas.CheckReplySubject(r.Event.ReplyTo, w.cfg.ReplyPrefixes); err != nil {
			w.log.WarnContext(ctx, "request rejected: not run", "request_id", r.Event.ID, "ref", r.Event.Data.QueryRef, "err", err)
			w.deadLetter(r, reasonReplySubject)
			return &Result{Settle: Terminate, Reason: reasonReplySubject, Err: err}
		}
		return next(ctx, r)
	}
}

// reply publishes the encoded reply. A reply too large for NATS is the
// request's own doing: it is answered 413 and acked, never re-run. Any
// other failure (the connection) leaves the request for redelivery.
func (w *Worker) reply(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		res := next(ctx, r)
		if r.reply == nil {
			return res
		}
		err := w.publish(r, r.reply, res.Reply)
		if errors.Is(err, nats.ErrMaxPayload) {
			// encode measured against the same limit; this is a backstop
			// for a server whose limit shrank since we connected.
			res = w.tooLarge(r, len(r.reply.Data))
			err = w.publish(r, r.reply, res.Reply)
		}
		if err != nil {
			w.log.WarnContext(ctx, "reply failed; leaving request for redelivery", "request_id", r.Event.ID, "err", err)
			return &Result{Reply: res.Reply, Err: err, Settle: Redeliver, Reason: reasonReplyFailed}
		}
		r.replied = true
		return res
	}
}

// publish sends a reply: on the worker's connection to the reply
// subject, or on the direct lane through its micro request (direct.go).
func (w *Worker) publish(r *Request, m *nats.Msg, res *schemas.Result) error {
	if r.direct != nil {
		return r.direct.respond(m, res)
	}
	return w.cfg.NC.PublishMsg(m)
}

// encode writes the reply body and message. A reply over the NATS max
// payload becomes a 413 too_large that says by how much.
func (w *Worker) encode(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		res := next(ctx, r)
		if res.Reply == nil {
			return res
		}
		w.encodeReply(r, res.Reply)
		if max := w.cfg.NC.MaxPayload(); max > 0 && int64(msgSize(r.reply)) > max {
			res = w.tooLarge(r, len(r.reply.Data))
		}
		return res
	}
}

func (w *Worker) encodeReply(r *Request, reply *schemas.Result) {
	reply.QueueUsed = r.Tag
	if reply.Status == 0 {
		reply.Status = reply.Error.Status()
	}
	body := reply.AppendJSON(make([]byte, 0, 256+len(reply.Rows)))
	r.reply = r.Event.Reply(w.cfg.Source, body)
}

// tooLarge replaces the reply with a 413 for a body of n bytes.
func (w *Worker) tooLarge(r *Request, n int) *Result {
	err := schemas.Errorf(schemas.CodeTooLarge,
		fmt.Sprintf("result of %d bytes exceeds the NATS max payload of %d bytes", n, w.cfg.NC.MaxPayload()))
	res := failure(r, err)
	w.encodeReply(r, res.Reply)
	return res
}

// msgSize is what nats.go counts against the max payload: data plus the
// encoded header block ("NATS/1.0\r\n", "k: v\r\n" per value, "\r\n").
func msgSize(m *nats.Msg) int {
	n := len(m.Data) + len("NATS/1.0\r\n\r\n")
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	return n
}

// landing: once the landing bound passed (Config.Abort), a request cut
// short is left for redelivery to another worker, not answered. One that
// finished is answered as usual.
func (w *Worker) landing(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		res := next(ctx, r)
		if res.Err != nil && w.aborted() {
			w.log.WarnContext(ctx, "landing bound passed: request left for redelivery", "request_id", r.Event.ID)
			return &Result{Settle: Redeliver, Reason: reasonLanding, Err: res.Err}
		}
		return res
	}
}

// check answers a malformed request bad_request and one for another
// database invalid_database, without running either.
func (w *Worker) check(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		if r.Malformed != nil {
			return failure(r, schemas.Errorf(schemas.CodeBadRequest, r.Malformed.Error()))
		}
		if r.Event.Database != w.cfg.Database {
			return failure(r, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection"))
		}
		return next(ctx, r)
	}
}

// deadline answers 408 a request that expired while queued, without
// running it; otherwise its deadline bounds everything after (resolve
// sets it, with the entry's timeout, as one context: nothing between the
// two waits on anything).
func (w *Worker) deadline(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		if d := r.Event.Deadline; !d.IsZero() && !time.Now().Before(d) {
			return failure(r, schemas.Errorf(schemas.CodeTimeout, "deadline passed while queued"))
		}
		return next(ctx, r)
	}
}

// resolve finds the catalog entry and binds the parameters; the entry's
// timeout bounds everything after (dqm's own statements included).
func (w *Worker) resolve(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		cat := w.cfg.Catalog()
		if cat == nil {
			return failure(r, schemas.Errorf(schemas.CodeUnavailable, "catalog not loaded"))
		}
		q, ok := cat.Lookup(r.Event.Data.QueryRef)
		if !ok {
			return failure(r, schemas.Errorf(schemas.CodeQueryNotFound, "queryref not found or not public"))
		}
		vals, err := params.Decode(params.Raw(r.Event.Data.Params))
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
		r.Query, r.Values, r.Stmts = q, vals, stmts
		// The earlier of the request's deadline and the entry's timeout.
		until := time.Now().Add(q.Timeout)
		if d := r.Event.Deadline; !d.IsZero() && d.Before(until) {
			until = d
		}
		ctx, cancel := context.WithDeadline(ctx, until)
		defer cancel()
		return next(ctx, r)
	}
}

// lane keeps the direct lane to its entries: a request there for an
// entry that is not on it (a write never is) is answered 400 without
// running; the client should have sent it to its queue.
func (w *Worker) lane(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		if r.direct != nil && (!r.Query.Direct || r.Query.Writes) {
			return failure(r, schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf(
				"ref %d is not on the direct lane of database %s: send it to its queue (%s)", r.Query.Ref, w.cfg.Database, r.Query.Queue)))
		}
		return next(ctx, r)
	}
}

// idempotency answers a write whose request id already committed with
// the outcome recorded by its first attempt, and otherwise records the id
// first and the outcome last in the write's own transaction, so the
// record exists exactly when the write committed, whatever happened
// between commit and reply. A record made with another body (ref or
// params) is refused 422 idempotency_mismatch. A write that fails after
// a twin of it (the same id, delivered twice) committed, on its key or
// on the record's, is answered from the twin's record.
func (w *Worker) idempotency(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		if !r.Query.Writes || !w.cfg.Idempotent {
			return next(ctx, r)
		}
		r.BodyHash = bodyHash(r.Query.Ref, r.Values)
		rec, done, err := w.applied(ctx, r.Event.ID)
		if err != nil {
			return failure(r, err)
		}
		if done {
			return w.replay(r, rec, "replay: this request was already applied; this is its first outcome")
		}
		own := w.cfg.Engine.System()
		r.Stmts = append(append([]engines.Statement{own.Record(r.Event.ID, r.Query.Ref, r.BodyHash)}, r.Stmts...),
			own.Outcome(r.Event.ID, func(out *engines.Result) []byte {
				return w.answer(r, out, out.Affected[min(1, len(out.Affected)):], 0).AppendJSON(nil)
			}))
		r.OwnStmts, r.OwnAfter = 1, 1
		res := next(ctx, r)
		if res.Err != nil && schemas.CodeOf(res.Err) == schemas.CodeDatabaseError {
			if rec, done, err := w.applied(ctx, r.Event.ID); err == nil && done {
				return w.replay(r, rec, "replay: a concurrent delivery of this request applied it; this is its outcome")
			}
		}
		return res
	}
}

// bodyHash identifies a write's ref and canonical params (json sorts map
// keys), the body a request id is bound to.
func bodyHash(ref int64, vals params.Values) string {
	b, _ := json.Marshal(vals)
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(ref, 10)))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers a write from its record: the first attempt's outcome,
// with msg, or 422 when the record was made with another body. A record
// from before outcomes were kept is answered as applied, without rows.
// The tables are invalidated again: the first attempt may have died
// before it did so.
func (w *Worker) replay(r *Request, rec engines.Recorded, msg string) *Result {
	if rec.BodyHash != r.BodyHash && (rec.BodyHash != "" || rec.Ref != r.Query.Ref) {
		return failure(r, schemas.Errorf(schemas.CodeIdempotencyMismatch, fmt.Sprintf(
			"request id %s was first used for a write with another body (ref %d or other params); use a new key", r.Event.ID, rec.Ref)))
	}
	w.invalidate(r.Event.Database, r.Query.Ref, r.Query.Tables)
	res := &schemas.Result{}
	if rec.Outcome == nil || json.Unmarshal(rec.Outcome, res) != nil {
		return &Result{Reply: &schemas.Result{Success: true, QueryRef: r.Query.Ref, Database: r.Event.Database,
			Description: r.Query.Description, Message: msg}}
	}
	res.Cached, res.CacheAgeMS, res.QueueUsed = false, 0, ""
	if res.Message == "" {
		res.Message = msg
	} else {
		res.Message = msg + "; " + res.Message
	}
	return &Result{Reply: res}
}

// retry runs a request once more where that is safe:
//   - a deadlock or serialization failure: the transaction was rolled
//     back;
//   - a connection found dead (reset, server restarted, idle connection
//     killed): run dropped it, so the next run reconnects. A read runs
//     again at once. A write runs again only when its idempotency record,
//     read on the fresh connection, proves it did not commit; when the
//     record says it did, it is answered as applied. A write without
//     idempotency is never retried: it is a 503.
func (w *Worker) retry(next Handler) Handler {
	return func(ctx context.Context, r *Request) *Result {
		res := next(ctx, r)
		if res.Err == nil || w.aborted() {
			return res
		}
		switch {
		case engines.IsRetryable(res.Err):
			w.log.InfoContext(ctx, "retrying once", "ref", r.Query.Ref, "request_id", r.Event.ID, "err", res.Err)
			return next(ctx, r)
		case !engines.IsConnLost(res.Err):
			return res
		case !r.Query.Writes:
			w.log.InfoContext(ctx, "connection lost; running the read again on a fresh connection", "ref", r.Query.Ref, "request_id", r.Event.ID)
			return next(ctx, r)
		case w.cfg.Idempotent:
			rec, done, err := w.applied(ctx, r.Event.ID)
			if err != nil {
				return res // still no connection: the first failure stands
			}
			if done {
				return w.replay(r, rec, "applied before the connection was lost")
			}
			w.log.InfoContext(ctx, "connection lost; the write did not commit, running it again", "ref", r.Query.Ref, "request_id", r.Event.ID)
			return next(ctx, r)
		}
		return res
	}
}

// execute runs the statements and builds the reply. A write invalidates
// its tables before the reply goes out (read-your-writes), whatever the
// reply says: it committed.
func (w *Worker) execute(ctx context.Context, r *Request) *Result {
	q := r.Query
	if dl, ok := ctx.Deadline(); ok && r.direct == nil && w.cfg.AckWait > 0 && time.Until(dl) > w.cfg.AckWait/2 {
		defer keepInProgress(r.Msg, w.cfg.AckWait/2)()
	}
	start := time.Now()
	out, err := w.run(ctx, r.Stmts)
	elapsed := time.Since(start)
	if err != nil {
		w.log.InfoContext(ctx, "query failed", "ref", q.Ref, "request_id", r.Event.ID, "err", err)
		return failure(r, err)
	}
	if q.Writes {
		w.invalidate(r.Event.Database, q.Ref, q.Tables)
	}
	n := max(len(out.Affected)-r.OwnAfter, 0)
	reply := w.answer(r, out, out.Affected[min(r.OwnStmts, n):n], elapsed)
	if !reply.Success {
		return &Result{Reply: reply, Err: schemas.Errorf(reply.Error, reply.Message)}
	}
	return &Result{Reply: reply}
}

// answer is the reply body of a run: its rows and, for a write, the
// affected counts of the entry's own statements. It is also what a write
// records as its outcome, from within its transaction (idempotency). The
// rows are counted after Run: engines.Conn has no row limit to stop
// reading at max_rows+1, so a huge result is read, then refused.
func (w *Worker) answer(r *Request, out *engines.Result, affected []int64, elapsed time.Duration) *schemas.Result {
	q := r.Query
	if out.RowCount > q.MaxRows {
		return failure(r, schemas.Errorf(schemas.CodeTooLarge,
			fmt.Sprintf("result has more than %d rows (max_rows)", q.MaxRows))).Reply
	}
	res := &schemas.Result{
		Success: true, QueryRef: q.Ref, Database: r.Event.Database, Description: q.Description,
		Rows: out.Rows, RowCount: out.RowCount, ColumnCount: len(out.Columns),
		ExecutionTimeMS: elapsed.Milliseconds(),
	}
	if q.Writes {
		res.AffectedRows = slices.Clone(affected)
	}
	if unused := r.Values.Unused(q.Template); len(unused) > 0 {
		res.Message = "unused parameters: " + strings.Join(unused, ", ")
	}
	return res
}

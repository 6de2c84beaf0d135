package workers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// retry runs a request once more where that is safe:
//   - a deadlock or serialization failure: the transaction was rolled
//     back;
//   - a connection found dead (reset, server restarted, idle connection
//     killed): run dropped it, so the next run reconnects. A read runs
//     again at once. A write runs again only when its idempotency record,
//     read on the fresh connection, proves it did not commit; when the
//     record says it did, it is answered as applied. A write without
//     idempotency is never retried: it is a 503.
func (w *Worker) retry(next runner) runner {
	return func(ctx context.Context, r *request, c call) *result {
		res := next(ctx, r, c)
		if res.err == nil || w.aborted() {
			return res
		}
		switch {
		case engines.IsRetryable(res.err):
			w.log.InfoContext(ctx, "retrying once", "ref", c.query.Ref, "request_id", r.event.ID, "err", res.err)
			return next(ctx, r, c)
		case !engines.IsConnLost(res.err):
			return res
		case !c.query.Writes:
			w.log.InfoContext(ctx, "connection lost; running the read again on a fresh connection", "ref", c.query.Ref, "request_id", r.event.ID)
			return next(ctx, r, c)
		case w.cfg.Idempotent:
			rec, done, err := w.applied(ctx, r.event.ID)
			if err != nil {
				return res // still no connection: the first failure stands
			}
			if done {
				return w.replay(r, c, rec, "applied before the connection was lost")
			}
			w.log.InfoContext(ctx, "connection lost; the write did not commit, running it again", "ref", c.query.Ref, "request_id", r.event.ID)
			return next(ctx, r, c)
		}
		return res
	}
}

// execute runs the statements and builds the reply, encoded once. A
// write with a record (call.record) builds it inside its transaction,
// as the outcome the record stores, from the result of its statements:
// the same bytes are stored and published. A write invalidates its
// tables before the reply goes out (read-your-writes), whatever the
// reply says: it committed.
func (w *Worker) execute(ctx context.Context, r *request, c call) *result {
	if dl, ok := ctx.Deadline(); ok && r.direct == nil && w.cfg.AckWait > 0 && time.Until(dl) > w.cfg.AckWait/2 {
		defer keepInProgress(r.msg, w.cfg.AckWait/2)()
	}
	start := time.Now()
	var out *engines.Result
	var res *result // the recorded outcome, when there is one
	var err error
	if c.record == "" {
		out, err = w.run(ctx, c.stmts)
	} else {
		out, res, err = w.runRecorded(ctx, r, c, start)
	}
	if err != nil {
		w.log.InfoContext(ctx, "query failed", "ref", c.query.Ref, "request_id", r.event.ID, "err", err)
		return failure(r, err)
	}
	if c.query.Writes {
		w.invalidate(r.event.Database, c.query.Ref, c.query.Tables)
	}
	if res == nil {
		res = w.answer(r, c, out, out.Affected, time.Since(start))
	}
	return res
}

// runRecorded runs a write inside its record, its reply made and
// encoded by the outcome statement, from within the transaction (apart
// from execute, so that only a recorded write pays for the closure).
func (w *Worker) runRecorded(ctx context.Context, r *request, c call, start time.Time) (*engines.Result, *result, error) {
	var res *result
	out, err := w.run(ctx, w.recorded(r, c, func(out *engines.Result) []byte {
		// The counts so far: the record's first, then the entry's.
		res = w.answer(r, c, out, out.Affected[min(1, len(out.Affected)):], time.Since(start))
		res.body = w.encode(r, res.reply)
		return res.body
	}))
	return out, res, err
}

// answer is the result of a run: its rows and, for a write, the affected
// counts of the entry's statements. The rows are counted after Run:
// engines.Conn has no row limit to stop reading at max_rows+1, so a huge
// result is read, then refused.
func (w *Worker) answer(r *request, c call, out *engines.Result, affected []int64, elapsed time.Duration) *result {
	q := c.query
	if out.RowCount > q.MaxRows {
		return failure(r, schemas.Errorf(schemas.CodeTooLarge,
			fmt.Sprintf("result has more than %d rows (max_rows)", q.MaxRows)))
	}
	reply := &schemas.Result{
		Success: true, QueryRef: q.Ref, Database: r.event.Database, Description: q.Description,
		Rows: out.Rows, RowCount: out.RowCount, ColumnCount: len(out.Columns),
		ExecutionTimeMS: elapsed.Milliseconds(),
	}
	if q.Writes {
		reply.AffectedRows = slices.Clone(affected)
	}
	if unused := c.values.Unused(q.Template); len(unused) > 0 {
		reply.Message = "unused parameters: " + strings.Join(unused, ", ")
	}
	return &result{reply: reply}
}

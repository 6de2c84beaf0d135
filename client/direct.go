package client

import (
	"context"
	"errors"
	"time"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/traceparent"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Direct sends the query on its database's direct lane: a core NATS
// request to db.<name>.direct, answered by one of the database's workers
// without crossing JetStream (on the 2-core test machine: 1.2–1.9× the
// queue's throughput, about half its latency).
// Only entries on the lane are answered there — reads whose catalog entry
// says "direct": true, or every read of a database with direct_reads —
// any other is refused 400 bad_request. Without Direct, a query takes the
// lane when the client knows its entry is on it: the REST adapter from
// its catalog, a client WithCache from KV dqm_catalog; a plain client
// only with Direct. When no worker serves the lane (the database has no
// direct entry, or its workers are down or stopping), the query goes
// through its queue as if Direct were not given.
func Direct() QueryOption { return func(q *query) { q.direct = true } }

// errNoLane: the direct lane did not take the request; it goes to the
// queue, unchanged.
var errNoLane = errors.New("direct lane: no responders")

// direct asks the database's workers for the query over core NATS
// request/reply, with the query's deadline. A reply is decoded exactly
// as the queue path's. No reply before the deadline is a 408 timeout, as
// on the queue: a read is safe to retry, but not by silently doubling
// the wait. errNoLane when no worker serves the lane (nats.ErrNoResponders,
// also what a stopping worker answers) or the request could not be sent:
// the caller falls back to the queue, which reports its own failures.
func (c *Client) direct(ctx context.Context, db string, ref int64, q query, deadline time.Time, data []byte) (*cache.Answer, error) {
	msg := wire.NewRequest(schemas.DirectSubject(db), q.id, c.source, "", deadline, data, ref)
	// The reply goes to the NATS reply subject: no inbox header, and no
	// Nats-Msg-Id, which no stream reads here.
	delete(msg.Header, schemas.HeaderReplyTo)
	delete(msg.Header, schemas.HeaderMsgID)
	if tp, ts := traceparent.Inject(ctx); tp != "" {
		wire.SetTrace(msg.Header, tp, ts)
	}
	m, err := c.nc.RequestMsgWithContext(ctx, msg)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		err := &schemas.Error{Code: schemas.CodeTimeout, Message: "no reply before the deadline", Err: errors.Join(ctx.Err(), err)}
		return &cache.Answer{Result: *schemas.Failure(db, ref, err)}, err
	default:
		return nil, errNoLane
	}
	return decodeReply(db, ref, m.Data, q.raw)
}

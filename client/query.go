package client

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/traceparent"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// QueryOption adjusts one query.
type QueryOption func(*query)

type query struct {
	tag       string
	id        string
	ttl       time.Duration
	tables    []string
	ttlSet    bool // CacheFor was given: the catalog's TTL is not used
	tablesSet bool // Tables was given: the catalog's tables are not used
	// params are the request's params as canonical JSON
	// (params.AppendCanonical), decoded and checked by the caller (REST's
	// validate): the cache key is made from them and the data built from
	// them when a request is sent (never on a cache hit), without
	// decoding or encoding them again.
	params []byte
	// timeout, if set, bounds the query from when it is sent: a cache hit
	// never starts the timer.
	timeout time.Duration
	direct  bool // Direct, or the entry is on the direct lane (direct.go)
	// raw: the caller writes the reply's bytes as they are (the REST
	// adapter), so its rows are sliced out, not read (decodeReply).
	raw bool
}

// CacheFor lets the client's cache answer the query for ttl (needs
// WithCache), whatever the catalog entry says; CacheFor(0) keeps the
// query out of the cache. Without it, the entry's cache_ttl_s applies to a
// cache-tag entry.
func CacheFor(ttl time.Duration) QueryOption {
	return func(q *query) { q.ttl, q.ttlSet = ttl, true }
}

// Tables names the tables the query reads or writes, instead of its
// catalog entry's: cached results are dropped when one of them is
// invalidated, and a write's reply drops the cached reads of its tables
// before Query returns (read-your-writes).
func Tables(tables ...string) QueryOption {
	return func(q *query) { q.tables, q.tablesSet = tables, true }
}

// Queue sends the query to a tag's queue (slow, medium, fast or cache)
// instead of medium.
func Queue(tag string) QueryOption { return func(q *query) { q.tag = tag } }

// RequestID sets the request's ce-id and Nats-Msg-Id (default a fresh
// NUID): the request's idempotency key, as REST's Idempotency-Key header
// is. Retry a query that got no reply (a timeout, a crash of dqm or of
// the caller) with the same id until it answers. A write (with
// databases.<name>.idempotent_writes, the default) runs at most once per
// id: a retry is answered with the outcome its first attempt recorded in
// the same transaction (rows, affected counts; "message" says it is a
// replay), across crashes, for idempotency_window_s (default 24 h); the
// same id with another ref or params is refused 422
// idempotency_mismatch. A read keeps no record: a retry runs it again.
// An id JetStream still remembers (its duplicate window) is published
// again under a fresh Nats-Msg-Id, so a retry is answered even when its
// first message was already consumed. An id is one token of the reply
// subject: 1 to 128 characters, no '.', '*', '>', spaces or control
// characters.
func RequestID(id string) QueryOption { return func(q *query) { q.id = id } }

// Query runs catalog query ref on database db and returns its reply. The
// context's deadline (DefaultTimeout if none) travels with the request. A
// reply with success:false is returned along with a *schemas.Error of its
// code; failures before a reply (queue full, no such database, the queue
// unavailable until the deadline, no reply in time) return a failure
// Result too, so callers always have a body to show. A publish that meets
// the cluster moving is retried until the deadline (see publish).
func (c *Client) Query(ctx context.Context, db string, ref int64, p schemas.Params, opts ...QueryOption) (*schemas.Result, error) {
	q := query{tag: schemas.TagMedium}
	for _, o := range opts {
		o(&q)
	}
	a, err := c.do(ctx, db, ref, p, q)
	return &a.Result, err
}

// do is Query after its options, in its span if tracing is on. The
// answer's Body is the reply's REST body when a worker's reply carried
// it, which REST writes as it is.
func (c *Client) do(ctx context.Context, db string, ref int64, p schemas.Params, q query) (*cache.Answer, error) {
	if c.tracer != nil {
		return c.traced(ctx, db, ref, p, q)
	}
	return c.answer(ctx, db, ref, p, q)
}

// answer is Query after its options: from the cache, or through the queue.
func (c *Client) answer(ctx context.Context, db string, ref int64, p schemas.Params, q query) (*cache.Answer, error) {
	if c.cache == nil {
		return c.query(ctx, db, ref, p, q)
	}
	if !q.ttlSet || !q.tablesSet {
		if r, ok := c.catalogs.rule(ctx, db, ref); ok {
			if !q.ttlSet {
				q.ttl = r.ttl
			}
			if !q.tablesSet {
				q.tables = r.tables
			}
			q.direct = q.direct || r.direct
		}
	}
	var a *cache.Answer
	var err error
	if q.ttl > 0 {
		canon := string(q.params)
		if q.params == nil {
			vals, derr := params.Decode(params.Raw(p))
			if derr != nil {
				return &cache.Answer{Result: *schemas.Failure(db, ref, derr)}, derr
			}
			canon = canonical(p, vals)
		}
		key := cache.Key(db, ref, canon)
		c.marks.Expect(db)
		a = c.cache.Do(ctx, db, key, q.tables, q.ttl, func(ctx context.Context) *cache.Answer {
			a, _ := c.query(ctx, db, ref, p, q)
			return a
		})
		if res := &a.Result; !res.Success {
			err = &schemas.Error{Code: res.Error, Message: res.Message}
		}
	} else {
		a, err = c.query(ctx, db, ref, p, q)
	}
	if err == nil && a.Result.AffectedRows != nil {
		for _, t := range q.tables {
			c.cache.Invalidate(db, t)
		}
	}
	return a, err
}

// canonical is the params' canonical text, so the same params written
// differently are one query.
func canonical(p schemas.Params, v params.Values) string {
	return string(params.AppendCanonical(make([]byte, 0, 64), p, v))
}

func (c *Client) query(ctx context.Context, db string, ref int64, p schemas.Params, q query) (*cache.Answer, error) {
	fail := func(err *schemas.Error) (*cache.Answer, error) {
		return &cache.Answer{Result: *schemas.Failure(db, ref, err)}, err
	}
	if q.id == "" {
		q.id = nuid.Next()
	} else if !validRequestID(q.id) {
		// The id is the last token of the reply subject: a dot, wildcard
		// or space in it would send the reply elsewhere or nowhere.
		return fail(schemas.Errorf(schemas.CodeBadRequest, "request id must be 1 to 128 characters without '.', '*', '>', spaces or control characters"))
	}
	if !schemas.IsTag(q.tag) {
		return fail(schemas.Errorf(schemas.CodeBadRequest, "queue must be slow, medium, fast or cache"))
	}
	if c.known != nil && !c.known(db) {
		return fail(errInvalidDatabase(db, nil))
	}
	if q.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.timeout)
		defer cancel()
	} else if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	if err := ctx.Err(); err != nil {
		// Nothing is published for a request that is over already: it is
		// late (408), not the queue unavailable (503).
		return fail(&schemas.Error{Code: schemas.CodeTimeout, Message: "the deadline passed before the request was sent", Err: err})
	}
	var data []byte
	if q.params != nil {
		data = wire.AppendQueryRequestParams(make([]byte, 0, 32+len(q.params)), ref, q.params)
	} else {
		var err error
		if data, err = wire.AppendQueryRequest(make([]byte, 0, 128), ref, p); err != nil {
			return fail(schemas.Errorf(schemas.CodeBadRequest, err.Error()))
		}
	}
	if q.direct {
		if res, err := c.direct(ctx, db, ref, q, deadline, data); !errors.Is(err, errNoLane) {
			return res, err
		}
	}
	ch := make(chan *nats.Msg, 1)
	c.mu.Lock()
	c.pending[q.id] = append(c.pending[q.id], ch)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if chs := slices.DeleteFunc(c.pending[q.id], func(o chan *nats.Msg) bool { return o == ch }); len(chs) > 0 {
			c.pending[q.id] = chs
		} else {
			delete(c.pending, q.id)
		}
		c.mu.Unlock()
	}()
	msg := wire.NewRequest(schemas.RequestSubject(db, q.tag), q.id, c.source, c.prefix+q.id, deadline, data, ref)
	// The caller's span context (OpenTelemetry), as ce-traceparent.
	if tp, ts := traceparent.Inject(ctx); tp != "" {
		wire.SetTrace(msg.Header, tp, ts)
	}
	reply, perr := c.publish(ctx, db, msg, ch)
	if perr != nil {
		return fail(perr)
	}
	if reply != nil {
		ch <- reply // answered while a publish was being retried
	}
	select {
	case m := <-ch:
		return decodeReply(db, ref, m.Data, q.raw)
	case <-ctx.Done():
		return fail(&schemas.Error{Code: schemas.CodeTimeout, Message: "no reply before the deadline", Err: ctx.Err()})
	}
}

// decodeReply decodes a worker's reply, keeping its REST body's bytes
// (the Answer's Body) for the REST adapter. A failure reply is returned
// with its *schemas.Error. raw (the adapter's queries) reads every field
// but the rows, which pass through as bytes (wire.ReadReply); a service's
// query reads them too, so its Rows are valid JSON (wire.DecodeResult).
// A reply in another shape than the workers write is read in full either
// way.
func decodeReply(db string, ref int64, data []byte, raw bool) (*cache.Answer, error) {
	a := &cache.Answer{}
	if raw {
		if body, ok := wire.ReadReply(data, &a.Result); ok {
			a.Body = body
			return a, resultError(&a.Result)
		}
		a.Result = schemas.Result{}
	}
	if err := wire.DecodeResult(data, &a.Result); err != nil {
		err := &schemas.Error{Code: schemas.CodeInternal, Message: "malformed reply", Err: err}
		return &cache.Answer{Result: *schemas.Failure(db, ref, err)}, err
	}
	// Rows alias data before the status field, which SplitReply cuts off
	// in place.
	if body, status, ok := wire.SplitReply(data); ok && status == a.Result.Status {
		a.Body = body
	}
	return a, resultError(&a.Result)
}

// resultError is the *schemas.Error of a failure reply, nil for success.
func resultError(res *schemas.Result) error {
	if res.Success {
		return nil
	}
	return &schemas.Error{Code: res.Error, Message: res.Message}
}

// validRequestID reports whether id can end a reply subject as one token.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c == '.' || c == '*' || c == '>' || c == 0x7f {
			return false
		}
	}
	return true
}

package ingress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// DefaultTimeout bounds a query whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// Client sends query requests and awaits their replies. It holds one reply
// subscription for all requests. It is safe for concurrent use.
type Client struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	source string
	prefix string // reply inbox prefix; a request's inbox is prefix + id
	// replyPrefixes are the prefixes workers accept for a reply subject.
	replyPrefixes []string
	sub           *nats.Subscription

	mu sync.Mutex
	// pending are the queries awaiting a reply, by request id: several
	// when callers retry one id concurrently (they share its reply).
	pending map[string][]chan *nats.Msg

	cache    *cache.Cache
	cacheSub *nats.Subscription

	tracer   trace.Tracer      // nil: tracing off (trace.go)
	marks    *cache.Watermarks // lost invalidations (watermarks.go)
	dropMsg  func(*nats.Msg) bool
	catalogs *catalogs // the near-cache's rules from KV dqm_catalog (catalogkv.go)

	life   context.Context // done on Close: the client's goroutines end
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
	// known, if set, says which databases exist (WithDatabases); else
	// streams answers it from JetStream, briefly cached.
	known   func(db string) bool
	streams streamCache
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithSource sets the ce-source of requests (default /dqm/client).
func WithSource(s string) ClientOption { return func(c *Client) { c.source = s } }

// WithCache gives the client a result cache (a near-cache for services,
// the instance cache for the REST adapter). A query is answered from it
// while fresh when its catalog entry is a cache-tag entry with a
// cache_ttl_s (read from KV dqm_catalog, which the client watches per
// database from that database's first query), or when it is sent with
// CacheFor; its tables, for invalidation, are the entry's unless Tables
// names them. The client subscribes to every database's
// invalidations to keep it correct. It notices the ones it missed (a gap
// in a publisher's numbers, a watermark it has not reached, or one that
// is overdue) and drops that database's entries, and it clears the cache
// after a reconnect or a slow-consumer drop.
func WithCache(c *cache.Cache) ClientOption { return func(cl *Client) { cl.cache = c } }

// WithReplyPrefixes names the reply prefixes the workers accept (the
// server's nats.reply_prefixes; default schemas.DefaultReplyPrefixes).
// NewClient refuses an inbox outside them: a worker would terminate every
// request of the client without a reply, so it would only ever time out.
func WithReplyPrefixes(prefixes ...string) ClientOption {
	return func(c *Client) { c.replyPrefixes = prefixes }
}

// WithDatabases tells the client which databases exist (dqm's own client:
// the configured ones), so it never asks JetStream: a query to another
// database fails with invalid_database before anything is published.
// Without it, the client looks a database's stream up once when a publish
// finds no stream, and caches the answer briefly.
func WithDatabases(known func(db string) bool) ClientOption {
	return func(c *Client) { c.known = known }
}

// NewClient returns a client using nc.
func NewClient(nc *nats.Conn, opts ...ClientOption) (*Client, error) {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(publishAttempt))
	if err != nil {
		return nil, err
	}
	c := &Client{nc: nc, js: js, source: "/dqm/client", pending: make(map[string][]chan *nats.Msg),
		replyPrefixes: schemas.DefaultReplyPrefixes}
	c.life, c.cancel = context.WithCancel(context.Background())
	for _, o := range opts {
		o(c)
	}
	// An inbox of its own: nats.go's request mux (used for PubAcks) owns
	// the prefix of NewRespInbox, and sharing it mixes the two streams.
	// nc.NewInbox honours the connection's nats.CustomInboxPrefix, which a
	// service limited to its own inbox on a shared NATS needs.
	c.prefix = nc.NewInbox() + "."
	// Checked once here, with a request id of the default shape; query
	// checks only a caller's own RequestID, the part that varies.
	if err := schemas.CheckReplySubject(c.prefix+nuid.Next(), c.replyPrefixes); err != nil {
		return nil, fmt.Errorf("reply inbox (nats.CustomInboxPrefix vs nats.reply_prefixes): %w", err)
	}
	c.sub, err = nc.Subscribe(c.prefix+"*", c.deliver)
	if err != nil {
		return nil, fmt.Errorf("reply subscription: %w", err)
	}
	if c.cache != nil {
		if err := c.watchInvalidations(); err != nil {
			c.sub.Unsubscribe()
			c.cancel()
			return nil, err
		}
		c.catalogs = &catalogs{js: js, ctx: c.life, wg: &c.wg, changed: c.cache.DropRefs, dbs: map[string]*dbCatalog{}}
	}
	return c, nil
}

// Close stops the subscriptions and the client's goroutines, and returns
// once they have ended; waiting queries fail.
func (c *Client) Close() error {
	var err error
	c.closed.Do(func() {
		c.cancel()
		if c.catalogs != nil {
			c.catalogs.close()
		}
		if c.cacheSub != nil {
			c.cacheSub.Unsubscribe()
		}
		err = c.sub.Unsubscribe()
		c.wg.Wait()
	})
	return err
}

func (c *Client) deliver(m *nats.Msg) {
	id := m.Subject[len(c.prefix):]
	c.mu.Lock()
	chs := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	for i, ch := range chs {
		if i > 0 {
			// Each caller decodes and takes its reply's bytes apart in
			// place (SplitReply): every one needs a copy of its own.
			cp := *m
			cp.Data = bytes.Clone(m.Data)
			ch <- &cp
			continue
		}
		ch <- m
	}
}

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
		data = schemas.AppendQueryRequestParams(make([]byte, 0, 32+len(q.params)), ref, q.params)
	} else {
		var err error
		if data, err = schemas.AppendQueryRequest(make([]byte, 0, 128), ref, p); err != nil {
			return fail(schemas.Errorf(schemas.CodeBadRequest, err.Error()))
		}
	}
	if q.direct {
		if res, err := c.direct(ctx, db, ref, q.id, deadline, data); !errors.Is(err, errNoLane) {
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
	if tp, ts := tracing.Inject(ctx); tp != "" {
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
		return decodeReply(db, ref, m.Data)
	case <-ctx.Done():
		return fail(&schemas.Error{Code: schemas.CodeTimeout, Message: "no reply before the deadline", Err: ctx.Err()})
	}
}

// decodeReply decodes a worker's reply, keeping its REST body's bytes
// (the Answer's Body) for the REST adapter. A failure reply is returned
// with its *schemas.Error.
func decodeReply(db string, ref int64, data []byte) (*cache.Answer, error) {
	a := &cache.Answer{}
	if err := schemas.DecodeResult(data, &a.Result); err != nil {
		err := &schemas.Error{Code: schemas.CodeInternal, Message: "malformed reply", Err: err}
		return &cache.Answer{Result: *schemas.Failure(db, ref, err)}, err
	}
	// Rows alias data before the status field, which SplitReply cuts off
	// in place.
	if body, status, ok := schemas.SplitReply(data); ok && status == a.Result.Status {
		a.Body = body
	}
	if res := &a.Result; !res.Success {
		return a, &schemas.Error{Code: res.Error, Message: res.Message}
	}
	return a, nil
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

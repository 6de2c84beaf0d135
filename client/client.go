package client

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/internal/cache"
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

// Option configures a Client.
type Option func(*Client)

// WithSource sets the ce-source of requests (default /dqm/client).
func WithSource(s string) Option { return func(c *Client) { c.source = s } }

// WithCache gives the client a result cache (NewCache): a near-cache. A
// query is answered from it
// while fresh when its catalog entry is a cache-tag entry with a
// cache_ttl_s (read from KV dqm_catalog, which the client watches per
// database from that database's first query), or when it is sent with
// CacheFor; its tables, for invalidation, are the entry's unless Tables
// names them. The client subscribes to every database's
// invalidations to keep it correct. It notices the ones it missed (a gap
// in a publisher's numbers, a watermark it has not reached, or one that
// is overdue) and drops that database's entries, and it clears the cache
// after a reconnect or a slow-consumer drop.
func WithCache(c *Cache) Option {
	return func(cl *Client) {
		if c != nil {
			cl.cache = c.c
		}
	}
}

// WithReplyPrefixes names the reply prefixes the workers accept (the
// server's nats.reply_prefixes; default schemas.DefaultReplyPrefixes).
// New refuses an inbox outside them: a worker would terminate every
// request of the client without a reply, so it would only ever time out.
func WithReplyPrefixes(prefixes ...string) Option {
	return func(c *Client) { c.replyPrefixes = prefixes }
}

// WithDatabases tells the client which databases exist (dqm's own client:
// the configured ones), so it never asks JetStream: a query to another
// database fails with invalid_database before anything is published.
// Without it, the client looks a database's stream up once when a publish
// finds no stream, and caches the answer briefly.
func WithDatabases(known func(db string) bool) Option {
	return func(c *Client) { c.known = known }
}

// New returns a client using nc.
func New(nc *nats.Conn, opts ...Option) (*Client, error) {
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
			// place (wire.SplitReply): every one needs a copy of its own.
			cp := *m
			cp.Data = bytes.Clone(m.Data)
			ch <- &cp
			continue
		}
		ch <- m
	}
}

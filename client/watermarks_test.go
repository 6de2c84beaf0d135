package client

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// cachedClient is a client with a cache on its own NATS, and a second
// connection to publish as dqm would.
func cachedClient(t *testing.T, opts ...Option) (*Client, *nats.Conn) {
	t.Helper()
	ns := testutil.NATS(t)
	nc := testutil.Connect(t, ns)
	c, err := New(nc, append([]Option{WithCache(NewCache(0, 0))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	// The invalidation subscription must be at the server before the
	// other connection publishes, or its first messages reach no one.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, testutil.Connect(t, ns)
}

func fillEntry(c *Client, db string, ref int64) {
	c.cache.Do(context.Background(), db, cache.Key(db, ref, ""), []string{"t"}, time.Minute, func(context.Context) *cache.Answer {
		return &cache.Answer{Result: schemas.Result{Success: true, Rows: []byte(`[]`)}}
	})
}

// TestClientGapDrops: invalidations of table other, numbered 1, 2, then 4:
// the gap drops database x (entries of t included), y keeps its entry.
func TestClientGapDrops(t *testing.T) {
	c, pub := cachedClient(t)
	send := func(db string, seq uint64) {
		pub.PublishMsg(wire.NewInvalidation("/t", schemas.Invalidation{Database: db, Table: "other", Publisher: "P", PublisherSeq: seq}))
		pub.Flush()
	}
	send("x", 1)
	send("y", 1)
	fillEntry(c, "x", 1)
	fillEntry(c, "y", 1)
	send("x", 2)
	testutil.Eventually(t, 5*time.Second, "x's second invalidation seen", func() bool { return c.cache.Stats().Invalidations >= 3 })
	if c.cache.Len("x") != 1 {
		t.Fatal("an invalidation in sequence dropped x")
	}
	send("x", 4)
	testutil.Eventually(t, 5*time.Second, "x dropped on the gap", func() bool { return c.cache.Len("x") == 0 })
	if c.cache.Len("y") != 1 {
		t.Fatal("y dropped")
	}
}

// TestClientSlowConsumerClears: a cache subscription that falls behind
// (nats.go discards what is past its pending limit) clears the cache.
func TestClientSlowConsumerClears(t *testing.T) {
	release := make(chan struct{})
	blocked := make(chan struct{}, 1)
	c, pub := cachedClient(t, WithDroppedInvalidations(func(*nats.Msg) bool {
		select {
		case blocked <- struct{}{}:
			<-release // the first message holds the handler
		default:
		}
		return false
	}))
	defer close(release)
	if err := c.cacheSub.SetPendingLimits(2, -1); err != nil {
		t.Fatal(err)
	}
	fillEntry(c, "x", 1)
	for range 10 {
		pub.PublishMsg(wire.NewInvalidation("/t", schemas.Invalidation{Database: "y", Table: "other"}))
	}
	pub.Flush()
	testutil.Eventually(t, 5*time.Second, "the cache cleared", func() bool { return c.cache.Len("") == 0 })
}

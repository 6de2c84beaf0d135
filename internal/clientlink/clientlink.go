// Package clientlink is what dqm's own server uses of package client that
// a service must not: the REST adapter sends a query with the rules of
// the instance's catalog and gets the reply's bytes back to write as they
// are, and the orchestrator reaches the instance cache inside a
// client.Cache (metrics, catalog changes, status). Package client sets
// these functions in its init; nothing else may.
package clientlink

import (
	"context"
	"time"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/schemas"
)

// Query is one query as the REST adapter sends it: every rule comes from
// the instance's own catalog, so the client looks nothing up in KV.
type Query struct {
	Tag    string        // the queue
	ID     string        // the request id ("": a fresh one)
	TTL    time.Duration // how long the instance cache may answer it (0: not cached)
	Tables []string      // what it reads or writes, for invalidation
	// Timeout bounds the query from when it is sent: a cache hit never
	// starts the timer.
	Timeout time.Duration
	// Params are the request's params as canonical JSON
	// (params.AppendCanonical), checked against the entry's template: the
	// cache key and the request data are made from them as they are.
	Params []byte
	Direct bool // the entry is on the direct lane
}

var (
	// Do runs q on c, a *client.Client. The answer's Body is the reply's
	// REST body when the reply had one, and its Result holds every field
	// but rows read (Rows aliases the body, unchecked): the adapter writes
	// the bytes as they are. The instance cache keeps such answers: a
	// Query on the same client that hits one gets its rows unchecked too.
	Do func(c any, ctx context.Context, db string, ref int64, p schemas.Params, q Query) *cache.Answer
	// Cache returns the cache inside c, a *client.Cache.
	Cache func(c any) *cache.Cache
)

package client

import "github.com/dqmhq/dqm/internal/cache"

// Cache is a client's near-cache of query results: TTL, LRU bounded by
// entries and bytes, one execution for concurrent misses of a key, and
// invalidation by table. Give it to New with WithCache; the client keeps
// it correct (see WithCache). It is safe for concurrent use.
type Cache struct{ c *cache.Cache }

// NewCache returns a cache bounded by maxEntries results and maxBytes of
// result bytes (0: unbounded).
func NewCache(maxEntries int, maxBytes int64) *Cache {
	return &Cache{c: cache.New(maxEntries, maxBytes)}
}

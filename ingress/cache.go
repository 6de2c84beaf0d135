package ingress

import "github.com/dqmhq/dqm/internal/cache"

// Cache is a result cache: TTL, LRU bounded by entries and bytes,
// concurrent misses for one key run once, invalidated by table. A service
// gives its Client one with WithCache to keep a near-cache.
type Cache = cache.Cache

// NewCache returns a cache bounded by maxEntries results and maxBytes of
// result bytes (0: unbounded).
func NewCache(maxEntries int, maxBytes int64) *Cache { return cache.New(maxEntries, maxBytes) }

// Package cache is the result cache of cache-tag queries: per instance,
// keyed by database, ref and normalized params, with a TTL per entry,
// bounds on entries and bytes (LRU), one execution for concurrent misses
// of a key, and invalidation by table. A fill that raced an invalidation
// of a table it reads is not stored, so a reader never gets a result
// older than an invalidation it has seen. Watermarks tells from the
// invalidations' numbers and watermarks when one was lost, so that the
// database is dropped (DropDatabase). It holds results; it never runs
// queries nor subscribes itself.
package cache

package cache

import (
	"container/list"
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/dqmhq/dqm/schemas"
)

// Stats count what the cache did.
type Stats struct {
	Hits, Misses, Evictions, Invalidations uint64
	// Drops are DropDatabase calls: a database emptied because some of its
	// invalidations may have been lost.
	Drops   uint64
	Entries int
	Bytes   int64
}

// Cache is safe for concurrent use.
type Cache struct {
	maxEntries int
	maxBytes   int64
	now        func() time.Time
	group      singleflight.Group

	mu      sync.Mutex
	ll      *list.List // front: most recently used
	items   map[string]*list.Element
	bytes   int64
	tables  map[string]map[string]bool // db.table → keys reading it
	gen     map[string]uint64          // db.table → invalidations so far
	dbGen   map[string]uint64          // db → DropDatabase calls so far
	epoch   uint64                     // Clears so far
	stats   Stats
	OnEvent func(db, event string) // hit, miss, eviction, invalidation (for metrics)
}

// Answer is what the cache holds for a key: the result and, when the
// filler had them, the REST body's bytes it came from (AppendJSON's, no
// status, "cached":false), so a hit is written without encoding.
type Answer struct {
	Result schemas.Result
	Body   []byte
}

type entry struct {
	key     string
	db      string
	ans     Answer
	tables  []string
	stored  time.Time
	expires time.Time
	size    int64
}

// New returns a cache bounded to maxEntries and maxBytes (0: unbounded).
func New(maxEntries int, maxBytes int64) *Cache {
	return &Cache{
		maxEntries: maxEntries, maxBytes: maxBytes, now: time.Now,
		ll: list.New(), items: map[string]*list.Element{},
		tables: map[string]map[string]bool{}, gen: map[string]uint64{}, dbGen: map[string]uint64{},
	}
}

// Key is the cache key of a query: database, ref and the canonical text
// of its decoded params (the same params written differently are one key).
func Key(db string, ref int64, canonicalParams string) string {
	return db + "\x00" + strconv.FormatInt(ref, 10) + "\x00" + canonicalParams
}

// Do returns the cached result for key, or runs fill once for all
// concurrent callers of the key and caches a successful result for ttl.
// The result's Cached and CacheAgeMS say where it came from (Body is the
// stored one either way). tables are what the query reads, for
// invalidation.
func (c *Cache) Do(ctx context.Context, db, key string, tables []string, ttl time.Duration,
	fill func(context.Context) *Answer) *Answer {
	if a, ok := c.get(db, key); ok {
		return a
	}
	v, _, _ := c.group.Do(key, func() (any, error) {
		// A caller that waited on an earlier flight may find it filled.
		if a, ok := c.peek(key); ok {
			return a, nil
		}
		before := c.versions(db, tables)
		// The flight is shared: one caller giving up must not fail the
		// others, but the first caller's deadline still bounds the work.
		fctx := context.WithoutCancel(ctx)
		if d, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			fctx, cancel = context.WithDeadline(fctx, d)
			defer cancel()
		}
		a := fill(fctx)
		if a != nil && a.Result.Success {
			c.put(db, key, tables, ttl, a, before)
		}
		return a, nil
	})
	a := *v.(*Answer)
	return &a
}

func (c *Cache) get(db, key string) (*Answer, bool) {
	c.mu.Lock()
	a, ok := c.lookup(key)
	if ok {
		c.stats.Hits++
	} else {
		c.stats.Misses++
	}
	c.mu.Unlock()
	// Outside the lock: every hit passes here.
	if ok {
		c.event(db, "hit")
	} else {
		c.event(db, "miss")
	}
	return a, ok
}

func (c *Cache) peek(key string) (*Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookup(key)
}

func (c *Cache) lookup(key string) (*Answer, bool) {
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	now := c.now()
	if !now.Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	a := e.ans
	a.Result.Cached = true
	a.Result.CacheAgeMS = now.Sub(e.stored).Milliseconds()
	return &a, true
}

// versions snapshots the invalidation counts of tables and the epoch.
func (c *Cache) versions(db string, tables []string) []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := make([]uint64, len(tables)+2)
	v[0], v[1] = c.epoch, c.dbGen[db]
	for i, t := range tables {
		v[i+2] = c.gen[db+"."+t]
	}
	return v
}

func (c *Cache) put(db, key string, tables []string, ttl time.Duration, a *Answer, before []uint64) {
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if before[0] != c.epoch || before[1] != c.dbGen[db] {
		return
	}
	for i, t := range tables {
		if c.gen[db+"."+t] != before[i+2] {
			return // invalidated while running: the result may predate the change
		}
	}
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	now := c.now()
	e := &entry{key: key, db: db, ans: *a, tables: tables, stored: now, expires: now.Add(ttl),
		size: int64(max(len(a.Result.Rows), len(a.Body)) + len(key) + 256)}
	c.items[key] = c.ll.PushFront(e)
	c.bytes += e.size
	for _, t := range tables {
		k := db + "." + t
		if c.tables[k] == nil {
			c.tables[k] = map[string]bool{}
		}
		c.tables[k][key] = true
	}
	for c.ll.Len() > 0 && ((c.maxEntries > 0 && c.ll.Len() > c.maxEntries) || (c.maxBytes > 0 && c.bytes > c.maxBytes)) {
		back := c.ll.Back()
		c.remove(back)
		c.stats.Evictions++
		c.event(back.Value.(*entry).db, "eviction")
	}
}

func (c *Cache) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.bytes -= e.size
	for _, t := range e.tables {
		k := e.db + "." + t
		delete(c.tables[k], e.key)
		if len(c.tables[k]) == 0 {
			delete(c.tables, k)
		}
	}
}

// Invalidate drops every entry of db that reads table and makes fills in
// flight for it uncacheable. It returns how many entries it dropped.
func (c *Cache) Invalidate(db, table string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := db + "." + table
	c.gen[k]++
	n := 0
	for key := range c.tables[k] {
		if el, ok := c.items[key]; ok {
			c.remove(el)
			n++
		}
	}
	c.stats.Invalidations++
	c.event(db, "invalidation")
	return n
}

// DropRefs drops every entry of db for the given refs (their catalog entry
// changed), and makes fills in flight for them uncacheable.
func (c *Cache) DropRefs(db string, refs []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++ // a fill of a changed ref may have run the old SQL
	for _, ref := range refs {
		prefix := Key(db, ref, "")
		for key, el := range c.items {
			if strings.HasPrefix(key, prefix) {
				c.remove(el)
			}
		}
	}
}

// DropDatabase drops every entry of db and makes its fills in flight
// uncacheable: the database's invalidations may have been missed (a gap in
// a publisher's numbers, or a watermark overdue). It returns how many
// entries it dropped.
func (c *Cache) DropDatabase(db string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dbGen[db]++
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*entry).db == db {
			c.remove(el)
			n++
		}
		el = next
	}
	c.stats.Drops++
	c.event(db, "drop")
	return n
}

// Clear drops everything, e.g. after a reconnect during which
// invalidations may have been missed.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.ll.Init()
	c.items = map[string]*list.Element{}
	c.tables = map[string]map[string]bool{}
	c.bytes = 0
}

// Len is the number of entries of db ("" for all).
func (c *Cache) Len(db string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if db == "" {
		return c.ll.Len()
	}
	n := 0
	for el := c.ll.Front(); el != nil; el = el.Next() {
		if el.Value.(*entry).db == db {
			n++
		}
	}
	return n
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Bytes = c.ll.Len(), c.bytes
	return s
}

func (c *Cache) event(db, ev string) {
	if c.OnEvent != nil {
		c.OnEvent(db, ev)
	}
}

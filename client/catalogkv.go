package client

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/sqltables"
	"github.com/dqmhq/dqm/schemas"
)

// catalogRetry is how long a database whose catalog watch failed (no
// bucket yet, no JetStream) waits before a query tries again.
const catalogRetry = 5 * time.Second

// catalogWait bounds how long a query waits for its database's catalog
// from KV; past it the query is sent as if its entry were not in KV.
const catalogWait = 5 * time.Second

// cacheRule is what a near-cache needs of a catalog entry, and whether
// the entry is on the direct lane (a Lead publishes it compiled: its own
// direct, or its database's direct_reads).
type cacheRule struct {
	ttl    time.Duration // 0: not cached
	tables []string
	direct bool
}

// kvEntry is a catalog entry as a Lead publishes it in KV dqm_catalog
// (catalog.Entry's JSON, TestKVEntryIsCatalogEntry): every field, so a
// value the catalog could not read is unreadable here too, though the
// rule needs five.
type kvEntry struct {
	Ref         int64             `json:"ref"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	SQL         string            `json:"sql,omitempty"`
	SQLByEngine map[string]string `json:"sql_by_engine,omitempty"`
	Queue       string            `json:"queue"`
	Public      bool              `json:"public"`
	TimeoutMS   int               `json:"timeout_ms,omitempty"`
	CacheTTLS   int               `json:"cache_ttl_s,omitempty"`
	Tables      []string          `json:"tables,omitempty"`
	MaxRows     int               `json:"max_rows,omitempty"`
	Direct      bool              `json:"direct,omitempty"`
	ParamTypes  map[string]string `json:"param_types,omitempty"`
}

// ruleOf is an entry's rule, as the REST adapter applies it
// (ingress/rest.go, send): cached for cache_ttl_s when its queue is cache.
func ruleOf(e kvEntry) cacheRule {
	r := cacheRule{tables: e.Tables, direct: e.Direct}
	if len(r.tables) == 0 && e.SQL != "" {
		r.tables = sqltables.Of(e.SQL) // a Lead that published the entry as written
	}
	if e.Queue == schemas.TagCache && e.CacheTTLS > 0 {
		r.ttl = time.Duration(e.CacheTTLS) * time.Second
	}
	return r
}

// catalogs is the near-cache's view of KV dqm_catalog: one watch per
// database (key <db>.*), started by the first query of the database that
// needs it and stopped by Client.Close.
type catalogs struct {
	js      jetstream.JetStream
	ctx     context.Context // the client's: done on Close
	wg      *sync.WaitGroup
	changed func(db string, refs []int64) // an entry changed or went: drop its results

	mu     sync.Mutex
	dbs    map[string]*dbCatalog
	closed bool // Close is waiting for the watches: start no more
}

// close makes rule start no more watches; the client then waits for
// those running (they end with its context).
func (k *catalogs) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
}

type dbCatalog struct {
	ready  chan struct{} // closed once the current values are in (or the watch failed)
	failed time.Time     // the watch failed then (zero: it runs)

	mu    sync.RWMutex
	rules map[int64]cacheRule
	raw   map[int64]string // the values as KV holds them: a Lead re-publishes unchanged entries
}

// rule returns db's entry ref as KV has it, starting the database's watch
// if needed and waiting (bounded by ctx) for its current values. ok is
// false for an entry not in KV, or when KV cannot be read.
func (k *catalogs) rule(ctx context.Context, db string, ref int64) (cacheRule, bool) {
	k.mu.Lock()
	d := k.dbs[db]
	if d == nil || (!d.failed.IsZero() && time.Since(d.failed) > catalogRetry) {
		if k.closed {
			k.mu.Unlock()
			return cacheRule{}, false
		}
		d = &dbCatalog{ready: make(chan struct{}), rules: map[int64]cacheRule{}, raw: map[int64]string{}}
		k.dbs[db] = d
		k.wg.Go(func() { k.watch(db, d) })
	}
	k.mu.Unlock()
	select {
	case <-d.ready: // the usual case: no timer
	default:
		wait := time.NewTimer(catalogWait)
		defer wait.Stop()
		select {
		case <-d.ready:
		case <-ctx.Done():
			return cacheRule{}, false
		case <-wait.C:
			return cacheRule{}, false
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.rules[ref]
	return r, ok
}

// watch keeps d equal to KV's keys <db>.* until the client closes.
func (k *catalogs) watch(db string, d *dbCatalog) {
	var once sync.Once
	ready := func() { once.Do(func() { close(d.ready) }) }
	fail := func() {
		k.mu.Lock()
		d.failed = time.Now()
		k.mu.Unlock()
		ready()
	}
	kv, err := k.js.KeyValue(k.ctx, schemas.BucketCatalog)
	if err != nil {
		fail()
		return
	}
	w, err := kv.Watch(k.ctx, db+".*")
	if err != nil {
		fail()
		return
	}
	defer w.Stop()
	loaded := false
	for {
		var e jetstream.KeyValueEntry
		var open bool
		select {
		case <-k.ctx.Done():
			ready()
			return
		case e, open = <-w.Updates():
		}
		if !open {
			fail()
			return
		}
		if e == nil { // the current values are in
			loaded = true
			ready()
			continue
		}
		ref, err := strconv.ParseInt(strings.TrimPrefix(e.Key(), db+"."), 10, 64)
		if err != nil {
			continue
		}
		var rule cacheRule
		put := e.Operation() == jetstream.KeyValuePut
		if put {
			var entry kvEntry
			if json.Unmarshal(e.Value(), &entry) != nil {
				put = false // unreadable: as if it were gone
			} else {
				rule = ruleOf(entry)
			}
		}
		d.mu.Lock()
		old, had := d.raw[ref]
		if put {
			d.rules[ref], d.raw[ref] = rule, string(e.Value())
		} else {
			delete(d.rules, ref)
			delete(d.raw, ref)
		}
		d.mu.Unlock()
		// A changed entry's cached results may come from its old SQL.
		if loaded && had && (!put || old != string(e.Value())) {
			k.changed(db, []int64{ref})
		}
	}
}

package lead

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/schemas"
)

// CheckCatalog loads and compiles db's catalog without changing anything
// (no DDL, no KV), for `dqm catalog check`: every problem is reported.
func CheckCatalog(ctx context.Context, db *config.Database, engine engines.Engine, host *config.Database, hostEngine engines.Engine) (*catalog.Catalog, error) {
	conn, err := engine.Open(ctx, db.DSN.Reveal(), engines.Options{StmtCacheSize: 1})
	if err != nil {
		return nil, fmt.Errorf("db %s: %w", db.Name, err)
	}
	defer conn.Close()
	var hold connHolder
	hold.set(conn)
	return newCatalogLoader(db, engine, host, hostEngine).load(ctx, &hold)
}

// catalogLoader compiles a database's catalog from its sources: its own
// queries table (tier 1), its host's (tier 2), its catalog file; a ref
// from an earlier source wins.
type catalogLoader struct {
	db       *config.Database
	engine   engines.Engine
	tables   tables
	readHost func(ctx context.Context) ([]catalog.Entry, error) // nil without a host
}

func newCatalogLoader(db *config.Database, engine engines.Engine, host *config.Database, hostEngine engines.Engine) *catalogLoader {
	l := &catalogLoader{db: db, engine: engine, tables: engineSystem{engine: engine, db: db}}
	if host != nil {
		l.readHost = func(ctx context.Context) ([]catalog.Entry, error) {
			return readHost(ctx, db.Name, host, hostEngine)
		}
	}
	return l
}

// load reads every source and compiles. The catalog is returned even with
// an error: the entries that compiled are usable.
func (l *catalogLoader) load(ctx context.Context, conn *connHolder) (*catalog.Catalog, error) {
	var entries []catalog.Entry
	seen := map[int64]bool{}
	add := func(es []catalog.Entry) {
		for _, e := range es {
			if !seen[e.Ref] {
				seen[e.Ref] = true
				entries = append(entries, e)
			}
		}
	}
	var errs []error
	if table := l.db.Catalog.Table; table != "" {
		err := conn.use(func(c engines.Conn) error {
			es, err := l.tables.ReadCatalog(ctx, c, table, l.db.Name, true)
			add(es)
			return err
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if l.readHost != nil {
		es, err := l.readHost(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		add(es)
	}
	if file := l.db.Catalog.File; file != "" {
		es, err := catalog.ReadFile(file)
		if err != nil {
			errs = append(errs, err)
		}
		add(es)
	}
	cat, err := catalog.Compile(l.db.Name, l.engine.Name(), params.Style(l.engine.Style()), l.db.DefaultTimeout(), entries, catalog.WithMaxRows(l.db.MaxRows),
		catalog.WithDirectReads(l.db.DirectReads))
	if err != nil {
		errs = append(errs, err)
	}
	return cat, errors.Join(errs...)
}

// readHost reads db's entries from its host's queries table.
func readHost(ctx context.Context, db string, host *config.Database, hostEngine engines.Engine) ([]catalog.Entry, error) {
	conn, err := hostEngine.Open(ctx, host.DSN.Reveal(), engines.Options{StmtCacheSize: 1})
	if err != nil {
		return nil, fmt.Errorf("catalog host %s: %w", host.Name, err)
	}
	defer conn.Close()
	return engineSystem{engine: hostEngine, db: host}.ReadCatalog(ctx, conn, hostTable(host), db, false)
}

func hostTable(host *config.Database) string {
	if t := host.Catalog.Table; t != "" {
		return t
	}
	return "queries"
}

// catalogKV is KV dqm_catalog as the reloader uses it.
type catalogKV interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
	ListKeysFiltered(ctx context.Context, filters ...string) (jetstream.KeyLister, error)
}

// catalogReloader is the catalog job. It loads the catalog on every new
// connection and whenever its queries table (or the host's) changes, on
// every instance; while this instance leads it keeps KV dqm_catalog equal
// to the catalog: all of it when it takes the lease, and every change.
type catalogReloader struct {
	db       string
	loader   *catalogLoader
	conn     *connHolder
	leader   *leaderState
	current  *atomic.Pointer[catalog.Catalog]
	kv       catalogKV // nil: not published
	onChange func(db string, refs []int64)
	reload   chan struct{} // a watched table changed
	every    time.Duration // retry of a failed publish
	onLoad   func()        // after every load (nil: nothing to tell)
	subs     []*nats.Subscription
	log      *slog.Logger

	loaded    uint64 // the connection the catalog was last loaded on
	pending   bool   // a reload was asked for
	published bool   // KV holds the catalog (while leading)
}

// watch subscribes to the invalidations of the catalog's table and the
// host's: the Lead's trigger events for them mean the catalog changed.
func (r *catalogReloader) watch(nc *nats.Conn, db *config.Database, host *config.Database) error {
	r.reload = make(chan struct{}, 1)
	sub := func(db, table string) error {
		s, err := nc.Subscribe(schemas.InvalidateSubject(db, subjectTable(table)), func(*nats.Msg) {
			select {
			case r.reload <- struct{}{}:
			default:
			}
		})
		if err != nil {
			return fmt.Errorf("db %s: catalog watch: %w", db, err)
		}
		r.subs = append(r.subs, s)
		return nil
	}
	if t := db.Catalog.Table; t != "" {
		if err := sub(db.Name, t); err != nil {
			return err
		}
	}
	if host != nil {
		return sub(host.Name, hostTable(host))
	}
	return nil
}

func (r *catalogReloader) unwatch() {
	for _, s := range r.subs {
		s.Unsubscribe()
	}
	r.subs = nil
}

func (r *catalogReloader) run(ctx context.Context) error {
	defer r.unwatch()
	retry := time.NewTicker(orDefault(r.every, time.Second))
	defer retry.Stop()
	for {
		leaderCh, connCh := r.leader.changed(), r.conn.changed()
		r.step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-r.reload:
			r.pending = true
		case <-leaderCh:
		case <-connCh:
		case <-retry.C:
		}
	}
}

func (r *catalogReloader) step(ctx context.Context) {
	var old, cur *catalog.Catalog
	if gen := r.conn.current(); gen != 0 && (r.pending || gen != r.loaded) {
		r.pending, r.loaded = false, gen
		cat, err := r.loader.load(ctx, r.conn)
		if err != nil {
			r.log.Error("catalog", "err", err)
		}
		old, cur = r.current.Swap(cat), cat
		r.log.Info("catalog loaded", "entries", cat.Len())
		if r.onLoad != nil {
			r.onLoad()
		}
		if old != nil {
			if changed := catalog.Diff(old, cat); len(changed) > 0 {
				r.log.Info("catalog changed", "refs", changed)
				if r.onChange != nil {
					r.onChange(r.db, changed)
				}
			}
		}
	}
	if !r.leader.get() {
		r.published = false
		return
	}
	if r.kv == nil {
		return
	}
	if !r.published {
		// Just took the lease: KV may hold another instance's (older)
		// catalog, or nothing.
		if cat := r.current.Load(); cat != nil {
			r.published = r.sync(ctx, cat) == nil
		}
		return
	}
	if cur != nil && r.publish(ctx, old, cur) != nil {
		r.published = false // sync all of it on the next retry
	}
}

func (r *catalogReloader) key(ref int64) string { return r.db + "." + strconv.FormatInt(ref, 10) }

// publish writes the catalog to KV dqm_catalog (<db>.<ref>) and deletes
// the refs of old that are gone.
func (r *catalogReloader) publish(ctx context.Context, old, cat *catalog.Catalog) error {
	for _, ref := range cat.Refs() {
		q, _ := cat.Lookup(ref)
		// With the tables it reads as compiled (named, or found in its
		// SQL): a near-cache invalidates by them (client/catalogkv.go).
		e := q.Entry
		e.Tables = q.Tables
		// And whether it is on the direct lane (its own direct, or the
		// database's direct_reads): a client sends it there.
		e.Direct = q.Direct
		b, _ := json.Marshal(e)
		if _, err := r.kv.Put(ctx, r.key(ref), b); err != nil {
			r.log.Warn("publish catalog", "err", err)
			return err
		}
	}
	if old != nil {
		for _, ref := range old.Refs() {
			if _, ok := cat.Lookup(ref); !ok {
				r.kv.Delete(ctx, r.key(ref))
			}
		}
	}
	return nil
}

// sync publishes the whole catalog and deletes every other key of the
// database.
func (r *catalogReloader) sync(ctx context.Context, cat *catalog.Catalog) error {
	if err := r.publish(ctx, nil, cat); err != nil {
		return err
	}
	lister, err := r.kv.ListKeysFiltered(ctx, r.db+".*")
	if err != nil {
		return nil // nothing listed, nothing stale
	}
	var stale []string
	for k := range lister.Keys() {
		ref, err := strconv.ParseInt(strings.TrimPrefix(k, r.db+"."), 10, 64)
		if _, ok := cat.Lookup(ref); err != nil || !ok {
			stale = append(stale, k)
		}
	}
	for _, k := range stale {
		r.kv.Delete(ctx, k)
	}
	r.log.Info("catalog published", "entries", cat.Len(), "stale", len(stale))
	return nil
}

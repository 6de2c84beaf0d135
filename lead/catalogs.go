package lead

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
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
	l := New(db, Deps{Engine: engine, Host: host, HostEngine: hostEngine})
	l.readOnly = true
	err = l.loadCatalog(ctx, conn)
	return l.Catalog(), err
}

// loadCatalog ensures the queries table exists (tier 1), then compiles the
// entries of the table and of the catalog file, the table winning on a ref
// both define.
func (l *Lead) loadCatalog(ctx context.Context, conn engines.Conn) error {
	engine := l.deps.Engine
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
		if !l.readOnly {
			if err := l.ensureTables(ctx, conn); err != nil {
				errs = append(errs, err)
			}
		}
		rows, err := engine.System().ReadCatalog(ctx, conn, table, l.db.Name, true)
		if err != nil {
			errs = append(errs, err)
		}
		add(catalog.Entries(rows))
	}
	if l.deps.Host != nil {
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
	cat, err := catalog.Compile(l.db.Name, engine.Name(), engine.Style(), l.db.DefaultTimeout(), entries)
	if err != nil {
		errs = append(errs, err)
	}
	old := l.catalog.Swap(cat)
	l.log.Info("catalog loaded", "entries", cat.Len())
	if old != nil {
		if changed := catalog.Diff(old, cat); len(changed) > 0 {
			l.log.Info("catalog changed", "refs", changed)
			if l.deps.OnCatalog != nil {
				l.deps.OnCatalog(l.db.Name, changed)
			}
		}
	}
	if l.IsLeader() {
		l.publishCatalog(ctx, old, cat)
	}
	return errors.Join(errs...)
}

// readHost reads this database's entries from its host's queries table.
func (l *Lead) readHost(ctx context.Context) ([]catalog.Entry, error) {
	host := l.deps.Host
	conn, err := l.deps.HostEngine.Open(ctx, host.DSN.Reveal(), engines.Options{StmtCacheSize: 1})
	if err != nil {
		return nil, fmt.Errorf("catalog host %s: %w", host.Name, err)
	}
	defer conn.Close()
	table := host.Catalog.Table
	if table == "" {
		table = "queries"
	}
	rows, err := l.deps.HostEngine.System().ReadCatalog(ctx, conn, table, l.db.Name, false)
	return catalog.Entries(rows), err
}

// publishCatalog writes the catalog to KV dqm_catalog (<db>.<ref>) and
// deletes refs that are gone.
func (l *Lead) publishCatalog(ctx context.Context, old, cat *catalog.Catalog) {
	kv := l.deps.Catalogs
	if kv == nil {
		return
	}
	for _, ref := range cat.Refs() {
		q, _ := cat.Lookup(ref)
		b, _ := json.Marshal(q.Entry)
		if _, err := kv.Put(ctx, l.db.Name+"."+strconv.FormatInt(ref, 10), b); err != nil {
			l.log.Warn("publish catalog", "err", err)
			return
		}
	}
	if old != nil {
		for _, ref := range old.Refs() {
			if _, ok := cat.Lookup(ref); !ok {
				kv.Delete(ctx, l.db.Name+"."+strconv.FormatInt(ref, 10))
			}
		}
	}
}

// watchCatalog reloads the catalog on every instance when its table (or
// the host's) changes: the Lead's trigger events invalidate it.
func (l *Lead) watchCatalog() (stop func(), err error) {
	var subs []*nats.Subscription
	watch := func(db, table string) error {
		sub, err := l.deps.NC.Subscribe(schemas.InvalidateSubject(db, subjectTable(table)), func(*nats.Msg) {
			l.reload.Store(true)
			l.pulled("")
		})
		subs = append(subs, sub)
		return err
	}
	if t := l.db.Catalog.Table; t != "" {
		err = watch(l.db.Name, t)
	}
	if h := l.deps.Host; h != nil && err == nil {
		table := h.Catalog.Table
		if table == "" {
			table = "queries"
		}
		err = watch(h.Name, table)
	}
	return func() {
		for _, s := range subs {
			if s != nil {
				s.Unsubscribe()
			}
		}
	}, err
}

// ensureTables creates dqm's queries table if it is missing, and runs the
// seed. A read-only user cannot: that is logged, and a table someone else
// created is still read.
func (l *Lead) ensureTables(ctx context.Context, conn engines.Conn) error {
	if !l.db.Catalog.ManageTables {
		return nil // the operator creates the tables
	}
	return l.deps.Engine.System().Setup(ctx, conn, l.db.Catalog.Table, l.deps.Seed)
}

package lead

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/catalog"
	"github.com/dqmhq/dqm/config"
	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/params"
	"github.com/dqmhq/dqm/schemas"
	"github.com/dqmhq/dqm/workers"
)

// Connection states of a database (CONTRACT §8).
const (
	StateConnecting   = "CONNECTING"
	StateConnected    = "CONNECTED"
	StateError        = "ERROR"
	StateDisconnected = "DISCONNECTED"
)

// Deps are the shared parts a Lead uses.
type Deps struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	Engine   engines.Engine
	Instance string
	Logger   *slog.Logger
	// Seed, if set, runs on the Lead's connection after dqm's own DDL (the
	// demo database's fixture).
	Seed string
	// Observe is passed to every worker.
	Observe func(db, tag string, code schemas.Code, queued, ran time.Duration)
}

// Lead runs one database.
type Lead struct {
	db   *config.Database
	deps Deps
	log  *slog.Logger

	catalog atomic.Pointer[catalog.Catalog]
	state   atomic.Value // string
	beat    atomic.Value // time.Time of the last successful check
}

// New returns the Lead of db; Run starts it.
func New(db *config.Database, deps Deps) *Lead {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	l := &Lead{db: db, deps: deps, log: deps.Logger.With("db", db.Name, "queue", Label(db, 0, nil))}
	l.state.Store(StateConnecting)
	l.beat.Store(time.Time{})
	return l
}

// Catalog is the current catalog (nil until loaded).
func (l *Lead) Catalog() *catalog.Catalog { return l.catalog.Load() }

// State is the connection state.
func (l *Lead) State() string { return l.state.Load().(string) }

// LastHeartbeat is when the connection was last seen healthy.
func (l *Lead) LastHeartbeat() time.Time { return l.beat.Load().(time.Time) }

// Ready reports whether the database is connected and its catalog loaded.
func (l *Lead) Ready() bool { return l.State() == StateConnected && l.Catalog() != nil }

// Engine is the engine's name.
func (l *Lead) Engine() string { return l.deps.Engine.Name() }

// Run launches the database in order — stream and consumers, connection,
// catalog, workers — and serves until ctx ends; then it stops the workers
// (each finishes what it runs) and closes the Lead's connection. A
// database that cannot be reached does not fail Run: it stays not ready
// and the Lead keeps retrying with backoff.
func (l *Lead) Run(ctx context.Context) error {
	st, err := EnsureStream(ctx, l.deps.JS, l.db)
	if err != nil {
		return err
	}
	l.log.Info("stream ready", "stream", schemas.StreamName(l.db.Name))
	conn := l.connect(ctx)
	if conn == nil {
		return nil // ctx ended while retrying
	}
	defer conn.Close()
	if err := l.loadCatalog(ctx, conn); err != nil {
		l.log.Error("catalog", "err", err)
	}
	var wg sync.WaitGroup
	for _, w := range Plan(l.db) {
		worker := workers.New(workers.Config{
			Database: l.db.Name, Label: w.Label, Tags: w.Tags,
			Engine: l.deps.Engine, DSN: l.db.DSN.Reveal(),
			Options: engines.Options{StmtCacheSize: l.db.StmtCacheSize},
			Catalog: l.Catalog, NC: l.deps.NC, Stream: st,
			Source: "/dqm/" + l.deps.Instance, Logger: l.deps.Logger,
			Observe: l.observe,
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(ctx); err != nil {
				l.log.Error("worker", "label", w.Label, "err", err)
			}
		}()
	}
	l.log.Info("database launched", "workers", len(Plan(l.db)))
	l.watch(ctx, conn)
	wg.Wait()
	l.log.Info("database landed")
	return nil
}

func (l *Lead) observe(tag string, code schemas.Code, queued, ran time.Duration) {
	if l.deps.Observe != nil {
		l.deps.Observe(l.db.Name, tag, code, queued, ran)
	}
}

// connect opens the Lead's connection, retrying with capped exponential
// backoff and jitter until it succeeds or ctx ends.
func (l *Lead) connect(ctx context.Context) engines.Conn {
	backoff := Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}
	for {
		conn, err := l.deps.Engine.Open(ctx, l.db.DSN.Reveal(), engines.Options{StmtCacheSize: l.db.StmtCacheSize})
		if err == nil {
			l.setConnected()
			return conn
		}
		l.state.Store(StateError)
		wait := backoff.Next()
		l.log.Warn("connect failed", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (l *Lead) setConnected() {
	if l.State() != StateConnected {
		l.log.Info("connected")
	}
	l.state.Store(StateConnected)
	l.beat.Store(time.Now())
}

// watch checks the connection every heartbeat until ctx ends.
func (l *Lead) watch(ctx context.Context, conn engines.Conn) {
	t := time.NewTicker(l.db.Heartbeat())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				l.state.Store(StateError)
				l.log.Warn("heartbeat failed", "err", err)
				continue
			}
			l.setConnected()
		}
	}
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
		if err := l.ensureTables(ctx, conn); err != nil {
			errs = append(errs, err)
		}
		es, err := catalog.ReadTable(ctx, conn, engine.Style(), table, l.db.Name, true)
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
	l.catalog.Store(cat)
	l.log.Info("catalog loaded", "entries", cat.Len())
	return errors.Join(errs...)
}

// ensureTables creates dqm's queries table if it is missing, and runs the
// seed. A read-only user cannot: that is logged, and a table someone else
// created is still read.
func (l *Lead) ensureTables(ctx context.Context, conn engines.Conn) error {
	if l.db.Catalog.Table != "queries" {
		return nil // a custom table name is the operator's to create
	}
	ddl, err := schemas.DDL(l.deps.Engine.Name())
	if err != nil {
		return err
	}
	script := ddl + "\n" + l.deps.Seed
	tpl, err := params.Parse(script)
	if err != nil {
		return fmt.Errorf("dqm DDL: %w", err)
	}
	for _, s := range tpl.Statements(l.deps.Engine.Style()) {
		if _, err := conn.Run(ctx, []engines.Statement{{SQL: s.SQL}}); err != nil {
			if strings.Contains(err.Error(), "42710") { // DB2: already exists
				continue
			}
			return fmt.Errorf("dqm DDL: %w", err)
		}
	}
	return nil
}

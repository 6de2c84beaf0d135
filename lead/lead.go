package lead

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/backoff"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/topology"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
	"github.com/dqmhq/dqm/workers"
)

// Connection states of a database.
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
	Leaders  jetstream.KeyValue // dqm_leaders: leases and plans
	Status   jetstream.KeyValue // dqm_status: one key per database and instance
	Engine   engines.Engine
	Instance string
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// Seed, if set, runs on the Lead's connection after dqm's own DDL (the
	// demo database's fixture).
	Seed string
	// Tick is how often the Lead looks at lag and plans (default 250 ms).
	Tick time.Duration
	// CacheEntries, if set, reports the instance's cache size for status.
	CacheEntries func(db string) int
	// Catalogs is KV dqm_catalog, where the Lead publishes the loaded
	// catalog (optional).
	Catalogs jetstream.KeyValue
	// Host and HostEngine are the database holding this one's catalog
	// (tier 2: config catalog.host), if any.
	Host       *config.Database
	HostEngine engines.Engine
	// Abort, when done, cancels in-flight queries (landing past its bound).
	Abort context.Context
	// OnCatalog is told which refs a reload added, changed or removed, so
	// the instance drops their cached results.
	OnCatalog func(db string, refs []int64)
	// ReplyPrefixes are the subjects a dead-letter notice may go to
	// (config nats.reply_prefixes; default schemas.DefaultReplyPrefixes).
	ReplyPrefixes []string
	// Tracer, if set, is given to the workers: spans for every request's
	// queue wait and execution (nil: tracing off).
	Tracer trace.Tracer
	// Watermark is how often the database's invalidation watermark goes
	// out (config cache.watermark_ms; default config.DefaultWatermark).
	Watermark time.Duration
	// Topology makes the database's request stream and consumers
	// (nil: topology.Default()).
	Topology *topology.Topology
	// Replication, if set, is the replication of the database's request
	// stream and the shared streams, for the heartbeat.
	Replication func(db string) []schemas.StreamReplication
}

// Lead runs one database on this instance. Every instance runs one per
// database; the one holding the lease in dqm_leaders is *the* Lead: it
// decides how many workers each tag needs and publishes heartbeats. Every
// instance runs its share of that plan.
type Lead struct {
	db   *config.Database
	deps Deps
	log  *slog.Logger

	catalog atomic.Pointer[catalog.Catalog]
	state   atomic.Value // string
	beat    atomic.Value // time.Time of the last successful check
	leader  leaderState
	conn    connHolder
	planner *planner
	// launched opens when the first connect attempt has ended, with the
	// catalog loaded if it connected: the children start then, as in the
	// seed's launch order.
	launched *gate
	// reported fires when what this instance reports in dqm_status
	// changes (connection state, its workers): the heartbeat job writes
	// it at once instead of at its next refresh.
	reported signal
	// loaded fires at every catalog load: the workers start or stop
	// serving the direct lane as the catalog says.
	loaded    signal
	nudge     chan struct{}
	lastNudge atomic.Int64 // unix nanos of the last nudge sent
	pool      atomic.Pointer[pool]
	// capturing is set while this instance leads and its triggers are
	// installed: changes from then on are published.
	capturing atomic.Bool
}

// New returns the Lead of db; Run starts it.
func New(db *config.Database, deps Deps) *Lead {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Tick <= 0 {
		deps.Tick = 250 * time.Millisecond
	}
	l := &Lead{db: db, deps: deps, nudge: make(chan struct{}, 1), planner: newPlanner(db, deps.Instance), launched: newGate()}
	l.log = deps.Logger.With("db", db.Name, "queue", Label(db, 0, LeadTags(db)))
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

// Desired is the Lead's plan for a tag: workers across all instances.
func (l *Lead) Desired(tag string) int { return l.planner.desired(tag) }

// Workers is how many workers of tag run on this instance.
func (l *Lead) Workers(tag string) int {
	if p := l.pool.Load(); p != nil {
		return p.count(tag)
	}
	return 0
}

// Capturing reports whether this instance publishes the database's change
// events (it leads and the triggers are installed).
func (l *Lead) Capturing() bool { return l.capturing.Load() }

// IsLeader reports whether this instance holds the database's lease.
func (l *Lead) IsLeader() bool { return l.leader.get() }

// Engine is the engine's name.
func (l *Lead) Engine() string { return l.deps.Engine.Name() }

// Queues describes this instance's workers of the database.
func (l *Lead) Queues() []schemas.QueueStatus {
	p := l.pool.Load()
	if p == nil {
		return nil
	}
	plan, lag := l.planner.snapshot()
	var out []schemas.QueueStatus
	for _, w := range p.all() {
		processed, failed := w.Stats()
		// Tags is [] for a Lead worker that serves none, never null.
		qs := schemas.QueueStatus{Label: w.Label(), Tags: append([]string{}, w.Tags()...), Processed: processed, Failed: failed}
		for _, t := range w.Tags() {
			qs.Workers += plan[t]
			qs.Pending += lag[t].Pending
			qs.AckPending += lag[t].AckPending
		}
		out = append(out, qs)
	}
	return out
}

func (l *Lead) setState(s string) {
	if old := l.state.Swap(s); old != s {
		l.log.Info("state", "from", old, "to", s)
		l.reported.fire()
	}
	if l.deps.Metrics != nil {
		l.deps.Metrics.SetState(l.db.Name, s)
	}
}

// job is one of the Lead's loops, run until ctx ends.
type job interface {
	run(ctx context.Context) error
}

// Run launches the database in launch order — stream and consumers,
// workers, then the jobs: health (connection), catalog, lease, plan,
// heartbeat, changes, dead letters — and runs them until ctx ends; then
// it lands: it gives up the lease, deletes its status, stops the workers
// (each finishes what it runs), and closes the Lead's connection. A
// database that cannot be reached does not fail Run: it stays not ready
// while the health job retries.
func (l *Lead) Run(ctx context.Context) error {
	topo := l.deps.Topology
	if topo == nil {
		topo = topology.Default()
	}
	st, err := topo.EnsureDatabase(ctx, l.deps.JS, l.db)
	if err != nil {
		return err
	}
	l.log.Info("launch: stream and consumers ready", "stream", schemas.StreamName(l.db.Name))
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	// One numbered invalidation publisher for the Lead's change publisher
	// and every worker: caches check its numbers (watermark.go).
	inv := newInvalidations(l.deps.NC.PublishMsg, l.db.Name, "/dqm/"+l.deps.Instance)
	pool := newPool(workerCtx, func(n int, tags []string) worker {
		return workers.New(workers.Config{
			Database: l.db.Name, Label: Label(l.db, n, tags), Tags: tags,
			Engine: l.deps.Engine, DSN: l.db.DSN.Reveal(),
			Options: engines.Options{StmtCacheSize: l.db.StmtCacheSize, ApplicationName: "dqm " + l.deps.Instance + " " + Label(l.db, n, tags)},
			Catalog: l.Catalog, NC: l.deps.NC, Stream: st,
			Source: "/dqm/" + l.deps.Instance, Logger: l.deps.Logger,
			Observe: l.observe, Pulled: l.pulled,
			Idempotent: l.db.IdempotentWrites, ReplyPrefixes: l.deps.ReplyPrefixes, Metrics: l.deps.Metrics,
			AckWait: l.db.AckWait(), Abort: l.deps.Abort, Tracer: l.deps.Tracer,
			Invalidate:  func(i schemas.Invalidation) error { return inv.send("/dqm/"+l.deps.Instance, i) },
			DirectReads: l.db.DirectReads, CatalogChanged: l.loaded.changed,
		})
	})
	pool.changed = l.reported.fire
	l.pool.Store(pool)
	lease := NewLease(l.deps.Leaders, l.db.Name, l.deps.Instance)
	jobs, err := l.jobs(st, pool, lease, inv)
	if err != nil {
		return err
	}
	pool.start(0, "lead", LeadTags(l.db))
	// The watermark outlives the other jobs: it keeps going while the
	// workers finish their requests (whose writes still invalidate), so a
	// long landing does not look like a dead publisher to every cache.
	wmCtx, stopWatermark := context.WithCancel(context.WithoutCancel(ctx))
	wmDone := make(chan struct{})
	go func() {
		defer close(wmDone)
		(&watermarkJob{inv: inv, every: l.watermarkEvery(), log: l.log}).run(wmCtx)
	}()
	g, gctx := errgroup.WithContext(ctx)
	for _, j := range jobs {
		g.Go(func() error { return j.run(gctx) })
	}
	if err := g.Wait(); err != nil {
		l.log.Error("lead job", "err", err)
	}
	// Landing: hand the lead over at once, then stop fetching and finish.
	l.log.Info("landing: release lease, stop workers")
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	lease.Release(rctx)
	if l.deps.Status != nil {
		l.deps.Status.Delete(rctx, l.statusKey())
	}
	cancel()
	l.leader.set(false)
	pool.stop()
	stopWatermark()
	<-wmDone
	// After the workers: no invalidation of this publisher can follow it.
	if err := inv.watermark(l.watermarkEvery(), true); err != nil {
		l.log.Warn("final invalidation watermark", "err", err)
	}
	if conn := l.conn.take(); conn != nil {
		conn.Close()
	}
	l.setState(StateDisconnected)
	l.log.Info("landing: database landed")
	return nil
}

// jobs builds the Lead's jobs. Those that subscribe do it here, so a
// failure stops Run before anything runs.
func (l *Lead) jobs(st jetstream.Stream, pool *pool, lease *Lease, inv *invalidations) ([]job, error) {
	sys := engineSystem{engine: l.deps.Engine, db: l.db, seed: l.deps.Seed}
	refresh := max(l.db.LeadTTL()/3, 100*time.Millisecond)
	every := orDefault(l.db.Heartbeat(), config.DefaultHeartbeat)
	dlq, err := newDeadLetters(l.deps.NC, st, l.db.Name, "/dqm/"+l.deps.Instance, l.deps.ReplyPrefixes, l.log)
	if err == nil {
		dlq.metrics = l.deps.Metrics
	}
	if err != nil {
		return nil, err
	}
	cat := &catalogReloader{
		db: l.db.Name, loader: newCatalogLoader(l.db, l.deps.Engine, l.deps.Host, l.deps.HostEngine), conn: &l.conn, leader: &l.leader, current: &l.catalog,
		onChange: l.deps.OnCatalog, every: refresh, log: l.log,
		onLoad: func() { l.launched.open(); l.loaded.fire() },
	}
	if l.deps.Catalogs != nil {
		cat.kv = l.deps.Catalogs
	}
	if err := cat.watch(l.deps.NC, l.db, l.deps.Host); err != nil {
		cat.unwatch()
		dlq.sub.Unsubscribe()
		return nil, err
	}
	p := l.planner
	p.plans, p.leader, p.pool, p.nudge, p.launched = l.deps.Leaders, &l.leader, pool, l.nudge, l.launched.wait()
	p.loads = &consumerLoads{st: st, db: l.db.Name}
	p.tick, p.refresh, p.metrics, p.log = l.deps.Tick, refresh, l.deps.Metrics, l.log
	hb := &heartbeat{
		status: l.heartbeat, key: l.statusKey(), publish: l.deps.NC.Publish,
		subject: schemas.HeartbeatSubject(l.db.Name), leader: &l.leader, reported: &l.reported,
		refresh: refresh, every: every, onPut: l.countCache, log: l.log,
	}
	if l.deps.Status != nil {
		hb.kv, p.members = l.deps.Status, l.deps.Status
	}
	return []job{
		&health{
			open: func(ctx context.Context) (engines.Conn, error) {
				return l.deps.Engine.Open(ctx, l.db.DSN.Reveal(), engines.Options{StmtCacheSize: l.db.StmtCacheSize,
					ApplicationName: "dqm " + l.deps.Instance + " " + Label(l.db, 0, LeadTags(l.db))})
			},
			tables: sys, conn: &l.conn, every: every,
			backoff: backoff.Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second},
			state:   l.setState, checked: l.checked, log: l.log,
		},
		cat,
		&leaseJob{lease: lease, leader: &l.leader, every: refresh, onChange: l.leaderChanged, log: l.log},
		p,
		hb,
		&changePublisher{
			db: l.db, log: sys, conn: &l.conn, leader: &l.leader, sink: l.deps.JS,
			invalidate: func(i schemas.Invalidation) error { return inv.send(wire.ChangeSource(l.db.Name), i) },
			capturing:  &l.capturing, metrics: l.deps.Metrics, logger: l.log,
		},
		dlq,
	}, nil
}

func (l *Lead) watermarkEvery() time.Duration {
	return orDefault(l.deps.Watermark, config.DefaultWatermark)
}

func (l *Lead) statusKey() string { return l.db.Name + "." + l.deps.Instance }

// heartbeat is this instance's status for KV and, from the Lead, the
// heartbeat subject.
func (l *Lead) heartbeat() schemas.Heartbeat {
	hb := schemas.Heartbeat{
		Database: l.db.Name, Instance: l.deps.Instance, Leader: l.IsLeader(), State: l.State(), Time: time.Now().UTC(),
	}
	if c := l.Catalog(); c != nil {
		hb.CatalogEntries = c.Len()
	}
	if l.deps.CacheEntries != nil {
		hb.CacheEntries = l.deps.CacheEntries(l.db.Name)
	}
	hb.Queues = l.Queues()
	if l.deps.Replication != nil {
		hb.Streams = l.deps.Replication(l.db.Name)
	}
	return hb
}

// checked records a health check: the heartbeat time and the metric.
func (l *Lead) checked(ok bool) {
	result := "error"
	if !ok {
		l.launched.open() // the workers start; they answer "not ready" meanwhile
	} else {
		result = "ok"
		l.beat.Store(time.Now())
	}
	if l.deps.Metrics != nil {
		l.deps.Metrics.Heartbeats.WithLabelValues(l.db.Name, result).Inc()
	}
}

func (l *Lead) leaderChanged(held bool) {
	if held {
		l.log.Info("took the Lead lease")
	} else {
		l.log.Info("lost the Lead lease")
	}
	if l.deps.Metrics != nil {
		l.deps.Metrics.Leader.WithLabelValues(l.db.Name).Set(map[bool]float64{true: 1}[held])
	}
}

func (l *Lead) countCache() {
	if l.deps.Metrics != nil && l.deps.CacheEntries != nil {
		l.deps.Metrics.CacheEntries.WithLabelValues(l.db.Name).Set(float64(l.deps.CacheEntries(l.db.Name)))
	}
}

func (l *Lead) observe(tag string, code schemas.Code, queued, ran time.Duration) {
	if l.deps.Metrics != nil {
		l.deps.Metrics.Observe(l.db.Name, tag, string(code), queued, ran)
	}
}

// pulled nudges the planner: a request was just taken off a queue.
func (l *Lead) pulled(string) {
	now := time.Now().UnixNano()
	last := l.lastNudge.Load()
	if now-last < int64(nudgeGap) || !l.lastNudge.CompareAndSwap(last, now) {
		return
	}
	select {
	case l.nudge <- struct{}{}:
	default:
	}
}

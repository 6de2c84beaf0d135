package lead

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
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
}

// Lead runs one database on this instance. Every instance runs one per
// database; the one holding the lease in dqm_leaders is *the* Lead: it
// decides how many workers each tag needs and publishes heartbeats. Every
// instance runs its share of that plan.
type Lead struct {
	db   *config.Database
	deps Deps
	log  *slog.Logger

	catalog   atomic.Pointer[catalog.Catalog]
	state     atomic.Value // string
	beat      atomic.Value // time.Time of the last successful check
	leader    atomic.Bool
	nudge     chan struct{}
	lastNudge atomic.Int64 // unix nanos of the last nudge sent
	pool      atomic.Pointer[pool]
	reload    atomic.Bool
	readOnly  bool // CheckCatalog: read the catalog, create nothing
	// capturing is set while this instance leads and its triggers are
	// installed: changes from then on are published.
	capturing atomic.Bool

	mu      sync.Mutex
	plan    map[string]int // desired workers per tag, cluster-wide
	members []string       // live instances of this database, sorted
	lag     map[string]Load
}

// New returns the Lead of db; Run starts it.
func New(db *config.Database, deps Deps) *Lead {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Tick <= 0 {
		deps.Tick = 250 * time.Millisecond
	}
	l := &Lead{db: db, deps: deps, nudge: make(chan struct{}, 1), lag: map[string]Load{}}
	l.log = deps.Logger.With("db", db.Name, "queue", Label(db, 0, LeadTags(db)))
	l.state.Store(StateConnecting)
	l.beat.Store(time.Time{})
	l.plan = map[string]int{}
	for _, t := range db.Tags() {
		if q := db.Queues[t]; q.Max > 0 {
			// A tag starts with at least one worker, as in the seed.
			l.plan[t] = max(q.Min, 1)
		}
	}
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
func (l *Lead) Desired(tag string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.plan[tag]
}

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
func (l *Lead) IsLeader() bool { return l.leader.Load() }

// Engine is the engine's name.
func (l *Lead) Engine() string { return l.deps.Engine.Name() }

func (l *Lead) setState(s string) {
	if old := l.state.Swap(s); old != s {
		l.log.Info("state", "from", old, "to", s)
	}
	if l.deps.Metrics != nil {
		l.deps.Metrics.SetState(l.db.Name, s)
	}
}

// Run launches the database in the seed's order — stream and consumers,
// connection, catalog, workers — and manages it until ctx ends; then it
// lands: it gives up the lease, stops the workers (each finishes what it
// runs), and closes the Lead's connection. A database that cannot be
// reached does not fail Run: it stays not ready while the Lead retries.
func (l *Lead) Run(ctx context.Context) error {
	st, err := EnsureStream(ctx, l.deps.JS, l.db)
	if err != nil {
		return err
	}
	l.log.Info("launch: stream and consumers ready", "stream", schemas.StreamName(l.db.Name))
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	pool := newPool(workerCtx, func(n int, tags []string) *workers.Worker {
		return workers.New(workers.Config{
			Database: l.db.Name, Label: Label(l.db, n, tags), Tags: tags,
			Engine: l.deps.Engine, DSN: l.db.DSN.Reveal(),
			Options: engines.Options{StmtCacheSize: l.db.StmtCacheSize},
			Catalog: l.Catalog, NC: l.deps.NC, Stream: st,
			Source: "/dqm/" + l.deps.Instance, Logger: l.deps.Logger,
			Observe: l.observe, Pulled: l.pulled,
			Idempotent: l.db.IdempotentWrites, Style: l.deps.Engine.Style(),
			AckWait: l.db.AckWait(), Abort: l.deps.Abort,
		})
	})
	l.pool.Store(pool)
	stopDLQ, err := DeadLetters(ctx, l.deps.NC, st, l.db.Name, "/dqm/"+l.deps.Instance, l.log)
	if err != nil {
		return err
	}
	defer stopDLQ()
	stopReload, err := l.watchCatalog()
	if err != nil {
		return err
	}
	defer stopReload()
	lease := NewLease(l.deps.Leaders, l.db.Name, l.deps.Instance)
	m := &manager{Lead: l, st: st, pool: pool, lease: lease, scalers: map[string]*Scaler{}, consumers: map[string]jetstream.Consumer{}}
	m.changes = &changes{l: l}
	m.run(ctx)
	m.changes.stop()
	// Landing: hand the lead over at once, then stop fetching and finish.
	l.log.Info("landing: release lease, stop workers")
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	lease.Release(rctx)
	if l.deps.Status != nil {
		l.deps.Status.Delete(rctx, l.statusKey())
	}
	cancel()
	l.leader.Store(false)
	pool.stop()
	if m.conn != nil {
		m.conn.Close()
	}
	l.setState(StateDisconnected)
	l.log.Info("landing: database landed")
	return nil
}

func (l *Lead) statusKey() string { return l.db.Name + "." + l.deps.Instance }

func (l *Lead) observe(tag string, code schemas.Code, queued, ran time.Duration) {
	if l.deps.Metrics != nil {
		l.deps.Metrics.Observe(l.db.Name, tag, string(code), queued, ran)
	}
}

// nudgeGap is the least time between two nudges: under load every pulled
// request would otherwise wake the Lead's loop.
const nudgeGap = 100 * time.Millisecond

// pulled nudges the scaler: a request was just taken off a queue.
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

// manager is the state of one Run.
type manager struct {
	*Lead
	st        jetstream.Stream
	pool      *pool
	lease     *Lease
	conn      engines.Conn
	backoff   Backoff
	retryAt   time.Time
	scalers   map[string]*Scaler
	consumers map[string]jetstream.Consumer // per tag, looked up once
	changes   *changes
}

func (m *manager) run(ctx context.Context) {
	refresh := max(m.db.LeadTTL()/3, 100*time.Millisecond)
	tick := time.NewTicker(m.deps.Tick)
	defer tick.Stop()
	var nextCheck, nextRefresh, nextBeat, nextPrune, lastScale time.Time
	scaleGap := min(m.deps.Tick, nudgeGap)
	m.backoff = Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}
	m.pool.start(0, "lead", LeadTags(m.db))
	for {
		now := time.Now()
		if m.conn == nil && !now.Before(m.retryAt) {
			m.connect(ctx)
			nextCheck = now.Add(m.db.Heartbeat())
		} else if m.conn != nil && !now.Before(nextCheck) {
			m.check(ctx)
			nextCheck = now.Add(m.db.Heartbeat())
		}
		m.apply()
		if !now.Before(nextRefresh) {
			m.refresh(ctx)
			nextRefresh = now.Add(refresh)
		}
		if m.conn != nil && m.reload.Swap(false) {
			if err := m.loadCatalog(ctx, m.conn); err != nil {
				m.log.Error("catalog reload", "err", err)
			}
		}
		woken := false
		if m.IsLeader() {
			// Nudges come with every pulled request; reading four consumers'
			// info for each would compete with the requests themselves.
			if now.Sub(lastScale) >= scaleGap {
				lastScale = now
				m.scale(ctx, now)
				m.apply()
			}
			if !now.Before(nextBeat) {
				m.publishHeartbeat()
				nextBeat = now.Add(m.db.Heartbeat())
			}
			m.publishChanges(ctx, now, false)
			if m.conn != nil && m.db.Catalog.ManageTables && !now.Before(nextPrune) {
				nextPrune = now.Add(pruneEvery)
				if err := pruneRequests(ctx, m); err != nil {
					m.log.Warn("prune dqm_requests", "err", err)
				}
			}
		} else if m.changes.installed {
			m.changes.stop()
		}
		// Polling engines poll on their own interval, which may be shorter
		// than the tick.
		var poll <-chan time.Time
		var pt *time.Timer
		if m.changes.installed {
			pt = time.NewTimer(time.Until(m.changes.nextPoll))
			poll = pt.C
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.nudge:
		case <-poll:
		case <-m.changes.wake:
			woken = true
		}
		if pt != nil {
			pt.Stop()
		}
		if woken && m.IsLeader() {
			m.publishChanges(ctx, time.Now(), true)
		}
	}
}

// connect opens the Lead's connection and loads the catalog; on failure
// the next attempt waits a capped exponential backoff with jitter.
func (m *manager) connect(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := m.deps.Engine.Open(cctx, m.db.DSN.Reveal(), engines.Options{StmtCacheSize: m.db.StmtCacheSize})
	if err != nil {
		m.setState(StateError)
		wait := m.backoff.Next()
		m.retryAt = time.Now().Add(wait)
		m.log.Warn("connect failed", "err", err, "retry_in", wait.Round(time.Millisecond))
		m.countBeat("error")
		return
	}
	m.conn = conn
	m.backoff.Reset()
	m.beat.Store(time.Now())
	m.countBeat("ok")
	if err := m.loadCatalog(ctx, conn); err != nil {
		m.log.Error("catalog", "err", err)
	}
	m.setState(StateConnected)
}

// publishChanges runs the change publisher when the Lead holds a
// connection: at once on a wake-up, else every poll interval.
func (m *manager) publishChanges(ctx context.Context, now time.Time, woken bool) {
	if m.conn == nil {
		return
	}
	if err := m.changes.start(ctx, m); err != nil {
		m.log.Warn("triggers", "err", err)
		return
	}
	if !m.changes.installed || (!woken && !m.changes.due(now)) {
		return
	}
	if err := m.changes.publish(ctx, m, now); err != nil {
		m.log.Warn("publish changes", "err", err)
	}
}

// check pings the connection: the seed's heartbeat check.
func (m *manager) check(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := m.conn.Ping(pctx)
	cancel()
	if err != nil {
		m.log.Warn("heartbeat check failed; reconnecting", "err", err)
		m.countBeat("error")
		m.setState(StateError)
		m.conn.Close()
		m.conn = nil
		m.changes.stop()
		m.retryAt = time.Now().Add(m.backoff.Next())
		return
	}
	m.countBeat("ok")
	m.beat.Store(time.Now())
	m.setState(StateConnected)
}

func (m *manager) countBeat(result string) {
	if m.deps.Metrics != nil {
		m.deps.Metrics.Heartbeats.WithLabelValues(m.db.Name, result).Inc()
	}
}

// refresh renews or takes the lease, writes this instance's status (which
// is also its membership), and reads the members and, if not leading, the
// Lead's plan.
func (m *manager) refresh(ctx context.Context) {
	held, err := m.lease.Try(ctx)
	if err != nil {
		m.log.Warn("lease", "err", err)
	}
	if was := m.leader.Swap(held); was != held {
		if held {
			m.log.Info("took the Lead lease")
		} else {
			m.log.Info("lost the Lead lease")
		}
		if m.deps.Metrics != nil {
			m.deps.Metrics.Leader.WithLabelValues(m.db.Name).Set(map[bool]float64{true: 1}[held])
		}
	}
	if m.deps.Metrics != nil && m.deps.CacheEntries != nil {
		m.deps.Metrics.CacheEntries.WithLabelValues(m.db.Name).Set(float64(m.deps.CacheEntries(m.db.Name)))
	}
	if m.deps.Status != nil {
		b, _ := json.Marshal(m.heartbeat())
		if _, err := m.deps.Status.Put(ctx, m.statusKey(), b); err != nil {
			m.log.Warn("status", "err", err)
		}
		m.readMembers(ctx)
	}
	if held {
		m.writePlan(ctx)
	} else {
		m.readPlan(ctx)
	}
}

func (m *manager) readMembers(ctx context.Context) {
	lister, err := m.deps.Status.ListKeysFiltered(ctx, m.db.Name+".*")
	if err != nil {
		return
	}
	var members []string
	for k := range lister.Keys() {
		members = append(members, strings.TrimPrefix(k, m.db.Name+"."))
	}
	slices.Sort(members)
	m.mu.Lock()
	m.members = members
	m.mu.Unlock()
}

func (m *manager) planKey() string { return m.db.Name + ".plan" }

func (m *manager) writePlan(ctx context.Context) {
	m.mu.Lock()
	p := schemas.Plan{Leader: m.deps.Instance, Workers: maps(m.plan), Time: time.Now().UTC()}
	m.mu.Unlock()
	b, _ := json.Marshal(p)
	if _, err := m.deps.Leaders.Put(ctx, m.planKey(), b); err != nil {
		m.log.Warn("plan", "err", err)
	}
}

func (m *manager) readPlan(ctx context.Context) {
	e, err := m.deps.Leaders.Get(ctx, m.planKey())
	if err != nil {
		return // no Lead yet: keep the last plan (min counts at start)
	}
	var p schemas.Plan
	if json.Unmarshal(e.Value(), &p) == nil && p.Workers != nil {
		m.mu.Lock()
		m.plan = p.Workers
		m.mu.Unlock()
	}
}

func maps(in map[string]int) map[string]int {
	out := make(map[string]int, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// scale reads each tag's consumer and lets its scaler decide; a changed
// plan is logged, counted and written at once.
func (m *manager) scale(ctx context.Context, now time.Time) {
	changed := false
	for _, tag := range m.db.Tags() {
		q := m.db.Queues[tag]
		if q.Max == 0 {
			continue
		}
		if q.Min == q.Max && m.plan[tag] == q.Max {
			continue // nothing to decide
		}
		cons := m.consumers[tag]
		if cons == nil {
			c, err := m.st.Consumer(ctx, schemas.ConsumerName(m.db.Name, tag))
			if err != nil {
				continue
			}
			m.consumers[tag], cons = c, c
		}
		info, err := cons.Info(ctx)
		if err != nil {
			continue
		}
		s := m.scalers[tag]
		if s == nil {
			s = &Scaler{UpEvery: m.deps.Tick, DownAfter: m.db.ScaleDownAfter()}
			m.scalers[tag] = s
		}
		m.mu.Lock()
		cur := m.plan[tag]
		load := Load{Pending: info.NumPending, AckPending: info.NumAckPending, Workers: cur, Min: q.Min, Max: q.Max}
		m.lag[tag] = load
		n, why := s.Decide(now, load)
		if n != cur {
			m.plan[tag] = n
			changed = true
		}
		m.mu.Unlock()
		if mt := m.deps.Metrics; mt != nil {
			mt.Lag.WithLabelValues(m.db.Name, tag).Set(float64(load.Lag()))
			mt.Desired.WithLabelValues(m.db.Name, tag).Set(float64(n))
		}
		if n != cur {
			dir := "up"
			if n < cur {
				dir = "down"
			}
			m.log.Info("scale", "tag", tag, "from", cur, "to", n, "reason", why,
				"pending", load.Pending, "ack_pending", load.AckPending)
			if m.deps.Metrics != nil {
				m.deps.Metrics.ScaleDecisions.WithLabelValues(m.db.Name, tag, dir).Inc()
			}
		}
	}
	if changed {
		m.writePlan(ctx)
	}
}

// apply runs this instance's share of the plan.
func (m *manager) apply() {
	m.mu.Lock()
	members := m.members
	idx := slices.Index(members, m.deps.Instance)
	if idx < 0 {
		// Not listed yet (first refresh pending): count ourselves in.
		members = append(slices.Clone(members), m.deps.Instance)
		slices.Sort(members)
		idx = slices.Index(members, m.deps.Instance)
	}
	plan := maps(m.plan)
	m.mu.Unlock()
	for _, tag := range m.db.Tags() {
		if m.db.Queues[tag].Max == 0 {
			continue
		}
		n := share(plan[tag], len(members), idx)
		m.pool.resize(tag, n)
		if m.deps.Metrics != nil {
			m.deps.Metrics.Workers.WithLabelValues(m.db.Name, tag).Set(float64(n))
		}
	}
}

// share is instance i's part of n workers spread over k instances: the
// first n%k instances (in sorted order) run one more.
func share(n, k, i int) int {
	if k <= 0 {
		return n
	}
	s := n / k
	if i < n%k {
		s++
	}
	return s
}

// Queues describes this instance's workers of the database.
func (l *Lead) Queues() []schemas.QueueStatus {
	p := l.pool.Load()
	if p == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []schemas.QueueStatus
	for _, w := range p.all() {
		processed, failed := w.Stats()
		qs := schemas.QueueStatus{Label: w.Label(), Tags: append([]string{}, w.Tags()...), Processed: processed, Failed: failed}
		for _, t := range w.Tags() {
			qs.Workers += l.plan[t]
			qs.Pending += l.lag[t].Pending
			qs.AckPending += l.lag[t].AckPending
		}
		out = append(out, qs)
	}
	return out
}

// heartbeat is this instance's status for KV and, from the Lead, the
// heartbeat subject.
func (m *manager) heartbeat() schemas.Heartbeat {
	hb := schemas.Heartbeat{
		Database: m.db.Name, Instance: m.deps.Instance, Leader: m.IsLeader(), State: m.State(), Time: time.Now().UTC(),
	}
	if c := m.Catalog(); c != nil {
		hb.CatalogEntries = c.Len()
	}
	if m.deps.CacheEntries != nil {
		hb.CacheEntries = m.deps.CacheEntries(m.db.Name)
	}
	hb.Queues = m.Queues()
	return hb
}

func (m *manager) publishHeartbeat() {
	b, _ := json.Marshal(m.heartbeat())
	if err := m.deps.NC.Publish(schemas.HeartbeatSubject(m.db.Name), b); err != nil {
		m.log.Warn("heartbeat publish", "err", err)
	}
}

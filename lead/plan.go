package lead

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/schemas"
)

// nudgeGap is the least time between two nudges, and between two scaling
// reads: under load every pulled request would otherwise wake the planner,
// and reading four consumers' info for each would compete with the
// requests themselves.
const nudgeGap = 100 * time.Millisecond

// queueLoads reads a tag's consumer: requests waiting and in flight.
type queueLoads interface {
	load(ctx context.Context, tag string) (pending uint64, ackPending int, err error)
}

// sizer runs n workers of a tag on this instance (the pool).
type sizer interface {
	resize(tag string, n int)
}

// planner is the plan job. The Lead's planner scales every tick (and on a
// nudge from a pulled request) and writes the plan to KV dqm_leaders; the
// others read it every refresh. Every instance then runs its share of the
// plan among the instances listed in dqm_status.
type planner struct {
	db       *config.Database
	instance string
	plans    jetstream.KeyValue // dqm_leaders: <db>.plan
	members  jetstream.KeyValue // dqm_status: one key per instance (nil: alone)
	leader   *leaderState
	loads    queueLoads
	pool     sizer
	tick     time.Duration
	refresh  time.Duration
	nudge    <-chan struct{}
	launched <-chan struct{} // the children start when it closes (nil: at once)
	metrics  *metrics.Metrics
	log      *slog.Logger

	scalers   map[string]*Scaler
	lastScale time.Time

	mu     sync.Mutex
	plan   map[string]int // desired workers per tag, cluster-wide
	listed []string       // live instances of this database, sorted
	lag    map[string]Load
}

// newPlanner starts from the launch plan: every tag with max > 0 at its
// min, and at least one worker.
func newPlanner(db *config.Database, instance string) *planner {
	p := &planner{db: db, instance: instance, scalers: map[string]*Scaler{}, plan: map[string]int{}, lag: map[string]Load{}}
	for _, t := range db.Tags() {
		if q := db.Queues[t]; q.Max > 0 {
			p.plan[t] = max(q.Min, 1)
		}
	}
	return p
}

func (p *planner) run(ctx context.Context) error {
	tick := time.NewTicker(p.tick)
	defer tick.Stop()
	refresh := time.NewTicker(p.refresh)
	defer refresh.Stop()
	scaleGap := min(p.tick, nudgeGap)
	if p.launched != nil {
		select {
		case <-ctx.Done():
			return nil
		case <-p.launched:
		}
	}
	p.sync(ctx)
	leading := false
	for {
		// The channel first, then the state: no change is missed.
		leaderCh := p.leader.changed()
		if now := p.leader.get(); now != leading {
			leading = now
			p.sync(ctx)
		}
		if now := time.Now(); leading && now.Sub(p.lastScale) >= scaleGap {
			p.lastScale = now
			p.scale(ctx, now)
		}
		p.apply()
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-p.nudge:
		case <-refresh.C:
			p.sync(ctx)
		case <-leaderCh:
		}
	}
}

// desired is the plan for tag.
func (p *planner) desired(tag string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plan[tag]
}

// snapshot copies the plan and the last loads read.
func (p *planner) snapshot() (plan map[string]int, lag map[string]Load) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.plan), maps.Clone(p.lag)
}

func (p *planner) planKey() string { return p.db.Name + ".plan" }

// sync reads the members and writes (leading) or reads the plan.
func (p *planner) sync(ctx context.Context) {
	p.readMembers(ctx)
	if p.leader.get() {
		p.writePlan(ctx)
	} else {
		p.readPlan(ctx)
	}
}

func (p *planner) readMembers(ctx context.Context) {
	if p.members == nil {
		return
	}
	lister, err := p.members.ListKeysFiltered(ctx, p.db.Name+".*")
	if err != nil {
		return
	}
	var listed []string
	for k := range lister.Keys() {
		listed = append(listed, strings.TrimPrefix(k, p.db.Name+"."))
	}
	slices.Sort(listed)
	p.mu.Lock()
	p.listed = listed
	p.mu.Unlock()
}

func (p *planner) writePlan(ctx context.Context) {
	p.mu.Lock()
	plan := schemas.Plan{Leader: p.instance, Workers: maps.Clone(p.plan), Time: time.Now().UTC()}
	p.mu.Unlock()
	b, _ := json.Marshal(plan)
	if _, err := p.plans.Put(ctx, p.planKey(), b); err != nil && ctx.Err() == nil {
		p.log.Warn("plan", "err", err)
	}
}

func (p *planner) readPlan(ctx context.Context) {
	e, err := p.plans.Get(ctx, p.planKey())
	if err != nil {
		return // no Lead yet: keep the last plan (min counts at start)
	}
	var plan schemas.Plan
	if json.Unmarshal(e.Value(), &plan) == nil && plan.Workers != nil {
		p.mu.Lock()
		p.plan = plan.Workers
		p.mu.Unlock()
	}
}

// scale reads each tag's load and lets its scaler decide; a changed plan
// is logged, counted and written at once.
func (p *planner) scale(ctx context.Context, now time.Time) {
	changed := false
	for _, tag := range p.db.Tags() {
		q := p.db.Queues[tag]
		if q.Max == 0 || (q.Min == q.Max && p.desired(tag) == q.Max) {
			continue // nothing to decide
		}
		pending, ackPending, err := p.loads.load(ctx, tag)
		if err != nil {
			continue
		}
		s := p.scalers[tag]
		if s == nil {
			s = &Scaler{UpEvery: p.tick, DownAfter: p.db.ScaleDownAfter()}
			p.scalers[tag] = s
		}
		p.mu.Lock()
		cur := p.plan[tag]
		load := Load{Pending: pending, AckPending: ackPending, Workers: cur, Min: q.Min, Max: q.Max}
		p.lag[tag] = load
		n, why := s.Decide(now, load)
		p.plan[tag] = n
		p.mu.Unlock()
		if mt := p.metrics; mt != nil {
			mt.Lag.WithLabelValues(p.db.Name, tag).Set(float64(load.Lag()))
			mt.Desired.WithLabelValues(p.db.Name, tag).Set(float64(n))
		}
		if n == cur {
			continue
		}
		changed = true
		dir := "up"
		if n < cur {
			dir = "down"
		}
		p.log.Info("scale", "tag", tag, "from", cur, "to", n, "reason", why,
			"pending", load.Pending, "ack_pending", load.AckPending)
		if p.metrics != nil {
			p.metrics.ScaleDecisions.WithLabelValues(p.db.Name, tag, dir).Inc()
		}
	}
	if changed {
		p.writePlan(ctx)
	}
}

// apply runs this instance's share of the plan.
func (p *planner) apply() {
	p.mu.Lock()
	listed := p.listed
	idx := slices.Index(listed, p.instance)
	if idx < 0 {
		// Not listed yet (first status put pending): count ourselves in.
		listed = append(slices.Clone(listed), p.instance)
		slices.Sort(listed)
		idx = slices.Index(listed, p.instance)
	}
	plan := maps.Clone(p.plan)
	p.mu.Unlock()
	for _, tag := range p.db.Tags() {
		if p.db.Queues[tag].Max == 0 {
			continue
		}
		n := share(plan[tag], len(listed), idx)
		p.pool.resize(tag, n)
		if p.metrics != nil {
			p.metrics.Workers.WithLabelValues(p.db.Name, tag).Set(float64(n))
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

// consumerLoads reads the loads from the stream's consumers, each looked
// up once. Only the planner's goroutine uses it.
type consumerLoads struct {
	st    jetstream.Stream
	db    string
	byTag map[string]jetstream.Consumer
}

func (c *consumerLoads) load(ctx context.Context, tag string) (uint64, int, error) {
	cons := c.byTag[tag]
	if cons == nil {
		var err error
		if cons, err = c.st.Consumer(ctx, schemas.ConsumerName(c.db, tag)); err != nil {
			return 0, 0, err
		}
		if c.byTag == nil {
			c.byTag = map[string]jetstream.Consumer{}
		}
		c.byTag[tag] = cons
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.NumPending, info.NumAckPending, nil
}

package console

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// windowSamples is how many samplings percentiles and the windowed hit
// ratio cover.
const windowSamples = 10

// builder turns one sampling into a State and a Point. Only the
// console's sampling goroutine uses it.
type builder struct {
	c     *Console
	s     *sampler
	rates *rates
	win   *windows
	last  time.Time
}

func newBuilder(c *Console) *builder {
	return &builder{c: c, s: newSampler(c.cfg.JS, c.dbs), rates: newRates(), win: newWindows(windowSamples)}
}

// metricsNow are the instance's vectors read once per sampling, by
// database where they have one.
type metricsNow struct {
	requests, exec, wait, cache map[string][]sample // by db
	httpReq, httpDur            []sample
}

func (b *builder) read() metricsNow {
	m := b.c.cfg.Metrics
	byDB := func(ss []sample) map[string][]sample {
		out := map[string][]sample{}
		for _, s := range ss {
			out[s.labels["db"]] = append(out[s.labels["db"]], s)
		}
		return out
	}
	if m == nil {
		return metricsNow{}
	}
	return metricsNow{requests: byDB(gather(m.Requests)), exec: byDB(gather(m.Execution)), wait: byDB(gather(m.QueueWait)),
		cache: byDB(gather(m.Cache)), httpReq: gather(m.HTTPRequests), httpDur: gather(m.HTTPDuration)}
}

// build samples now: NATS first, then the clock, so the ages of KV
// entries the watch has already seen are never negative.
func (b *builder) build(ctx context.Context) (State, Point) {
	loads := b.s.loads(ctx)
	now := time.Now()
	dt := time.Duration(0)
	if !b.last.IsZero() {
		dt = now.Sub(b.last)
	}
	b.last = now
	b.rates.begin(dt)
	m := b.read()
	st := State{Time: now.UTC(), Instance: b.c.cfg.Instance, IntervalMS: b.c.cfg.Interval.Milliseconds(), Databases: []DBState{}}
	pt := Point{T: now.UnixMilli(), DBs: map[string]DBPoint{}}
	for _, db := range b.c.dbs {
		d, p := b.database(db, now, loads[db], m)
		st.Databases = append(st.Databases, d)
		pt.DBs[db] = p
	}
	st.HTTP = b.routes(m)
	st.Scale, st.Leads = b.c.watch.recent()
	b.win.sweep()
	return st, pt
}

func (b *builder) database(db string, now time.Time, loads map[string]load, m metricsNow) (DBState, DBPoint) {
	v := b.c.watch.of(db)
	d := DBState{Name: db, Lead: v.lead, LeadHere: v.lead != "" && v.lead == b.c.cfg.Instance, HeartbeatAgeMS: -1,
		Stream: b.s.streams[db], DeadLetters: b.s.dlq[db], Instances: []Instance{}, Workers: []Worker{}}
	if d.Stream.Name == "" {
		d.Stream = Stream{Name: schemas.StreamName(db), Replicas: 1, Peers: []string{}}
	}
	if cfg := b.c.cfg.Databases[db]; cfg != nil {
		d.Engine = cfg.Engine
	}
	if l := b.local(db); l != nil {
		d.Engine, d.State, d.Ready = l.Engine(), l.State(), l.Ready()
		if t := l.LastHeartbeat(); !t.IsZero() {
			d.LastCheck = &t
		}
		if cat := l.Catalog(); cat != nil {
			d.CatalogEntries = cat.Len()
		}
	}
	running := map[string]int{}
	for _, e := range v.instances {
		hb := e.value
		age := now.Sub(e.at).Milliseconds()
		d.Instances = append(d.Instances, Instance{ID: hb.Instance, Leader: hb.Leader, State: hb.State, AgeMS: age})
		if hb.Instance == v.lead {
			d.HeartbeatAgeMS = max(age, 0)
		}
		for _, q := range hb.Queues {
			d.Workers = append(d.Workers, Worker{Instance: hb.Instance, Label: q.Label, Tags: nonNil(q.Tags),
				Lead: hb.Instance == v.lead && strings.Contains(q.Label, "-00-"), Processed: q.Processed, Failed: q.Failed})
			for _, t := range q.Tags {
				running[t]++
			}
		}
	}
	p := DBPoint{Depth: map[string]uint64{}, Tput: map[string]float64{}}
	d.Tags = b.tags(db, loads, v.plan, running, &p)
	d.Requests = b.requests(db, m, &p)
	d.Cache = b.cacheOf(db, m, &p)
	d.ChangesPerS = b.rates.rate(key("chg", db), float64(b.c.tail.count(db)))
	p.Changes = d.ChangesPerS
	return d, p
}

func (b *builder) local(db string) Local {
	if b.c.cfg.Local == nil {
		return nil
	}
	return b.c.cfg.Local(db)
}

func (b *builder) tags(db string, loads map[string]load, plan map[string]int, running map[string]int, p *DBPoint) []Tag {
	cfg := b.c.cfg.Databases[db]
	out := make([]Tag, 0, len(schemas.Tags))
	for _, tag := range schemas.Tags {
		t := Tag{Tag: tag, Desired: plan[tag], Running: running[tag]}
		if cfg != nil {
			q := cfg.Queues[tag]
			t.Min, t.Max = q.Min, q.Max
		}
		if l := loads[tag]; l.ok {
			t.Pending, t.AckPending, t.Delivered = l.pending, l.ackPending, l.delivered
			t.PerS = b.rates.rate(key("tput", db, tag), float64(l.delivered))
		}
		p.Depth[tag] = t.Pending + uint64(t.AckPending)
		p.Tput[tag] = t.PerS
		out = append(out, t)
	}
	return out
}

// requests are this instance's answers of db per tag, and in p the
// database's totals.
func (b *builder) requests(db string, m metricsNow, p *DBPoint) []Requests {
	byTag := map[string]*Requests{}
	get := func(tag string) *Requests {
		r := byTag[tag]
		if r == nil {
			r = &Requests{Tag: tag, Errors: map[string]uint64{}}
			byTag[tag] = r
		}
		return r
	}
	errs := map[string]float64{}
	for _, s := range m.requests[db] {
		r := get(s.labels["tag"])
		r.Total += uint64(s.value)
		if o := s.labels["outcome"]; o != "ok" {
			r.Errors[o] += uint64(s.value)
			errs[r.Tag] += s.value
		}
	}
	var execAll []float64
	var bounds []float64
	for _, s := range m.exec[db] {
		r := get(s.labels["tag"])
		r.ExecMS = quantilesMS(s.bounds, b.win.observe(key("exec", db, r.Tag), s.cum))
		execAll, bounds = add(execAll, s.cum), s.bounds
	}
	for _, s := range m.wait[db] {
		r := get(s.labels["tag"])
		r.WaitMS = quantilesMS(s.bounds, b.win.observe(key("wait", db, r.Tag), s.cum))
	}
	out := make([]Requests, 0, len(byTag))
	for _, r := range byTag {
		r.PerS = b.rates.rate(key("req", db, r.Tag), float64(r.Total))
		r.ErrPerS = b.rates.rate(key("err", db, r.Tag), errs[r.Tag])
		p.Req += r.PerS
		p.Err += r.ErrPerS
		out = append(out, *r)
	}
	if execAll != nil {
		q := quantilesMS(bounds, b.win.observe(key("exec", db, "*"), execAll))
		p.P50, p.P99 = q.P50, q.P99
	}
	slices.SortFunc(out, func(a, b Requests) int { return tagOrder(a.Tag) - tagOrder(b.Tag) })
	return out
}

// tagOrder sorts tags S, M, F, C, then the direct lane and the rest.
func tagOrder(tag string) int {
	if i := slices.Index(schemas.Tags, tag); i >= 0 {
		return i
	}
	return len(schemas.Tags)
}

func (b *builder) cacheOf(db string, m metricsNow, p *DBPoint) Cache {
	c := Cache{HitRatio: -1, HitRatioAll: -1}
	for _, s := range m.cache[db] {
		n := uint64(s.value)
		switch s.labels["event"] {
		case "hit":
			c.Hits = n
		case "miss":
			c.Misses = n
		case "invalidation":
			c.Invalidations = n
		case "eviction":
			c.Evictions = n
		case "drop":
			c.Drops = n
		}
	}
	if b.c.cfg.Cache != nil {
		c.Entries = b.c.cfg.Cache.Len(db)
	}
	if all := c.Hits + c.Misses; all > 0 {
		c.HitRatioAll = float64(c.Hits) / float64(all)
	}
	// hits and misses as a two-bucket histogram: its window is the last
	// seconds' lookups.
	w := b.win.observe(key("hit", db), []float64{float64(c.Hits), float64(c.Hits + c.Misses)})
	if w[1] > 0 {
		c.HitRatio = w[0] / w[1]
	}
	p.Hit, p.Entries = c.HitRatio, c.Entries
	return c
}

func (b *builder) routes(m metricsNow) []Route {
	byRoute := map[string]*Route{}
	for _, s := range m.httpReq {
		name := s.labels["route"]
		r := byRoute[name]
		if r == nil {
			r = &Route{Route: name, Status: map[string]uint64{}}
			byRoute[name] = r
		}
		r.Total += uint64(s.value)
		r.Status[s.labels["status"]] += uint64(s.value)
	}
	hists := map[string][]float64{}
	var bounds []float64
	for _, s := range m.httpDur {
		hists[s.labels["route"]] = add(hists[s.labels["route"]], s.cum)
		bounds = s.bounds
	}
	out := make([]Route, 0, len(byRoute))
	for name, r := range byRoute {
		r.PerS = b.rates.rate(key("http", name), float64(r.Total))
		if h := hists[name]; h != nil {
			r.LatencyMS = quantilesMS(bounds, b.win.observe(key("http", name), h))
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.Route, b.Route) })
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

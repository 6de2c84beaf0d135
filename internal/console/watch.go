package console

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// watch follows KV dqm_status (every instance's workers) and dqm_leaders
// (Lead leases and plans) as they change: a plan that changes is a
// scaling decision, a lease that changes hands a Lead change. Both
// buckets expire their keys by TTL without telling watchers, so an entry
// older than the bucket's TTL counts as gone.
type watch struct {
	mu        sync.Mutex
	status    map[string]kvEntry[schemas.Heartbeat] // <db>.<instance>
	leases    map[string]kvEntry[string]            // <db> → holder
	plans     map[string]kvEntry[schemas.Plan]      // <db>
	decisions *ring[Decision]
	leads     *ring[LeadEvent]
	ttl       time.Duration
	now       func() time.Time
}

type kvEntry[T any] struct {
	value T
	at    time.Time
}

func newWatch() *watch {
	return &watch{status: map[string]kvEntry[schemas.Heartbeat]{}, leases: map[string]kvEntry[string]{},
		plans: map[string]kvEntry[schemas.Plan]{}, decisions: newRing[Decision](100), leads: newRing[LeadEvent](50),
		ttl: 5 * time.Second, now: time.Now}
}

// run watches both buckets until ctx ends, re-watching after a failure.
func (w *watch) run(ctx context.Context, js jetstream.JetStream) {
	for ctx.Err() == nil {
		if err := w.watchOnce(ctx, js); err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (w *watch) watchOnce(ctx context.Context, js jetstream.JetStream) error {
	status, err := js.KeyValue(ctx, schemas.BucketStatus)
	if err != nil {
		return err
	}
	leaders, err := js.KeyValue(ctx, schemas.BucketLeaders)
	if err != nil {
		return err
	}
	if st, err := leaders.Status(ctx); err == nil && st.TTL() > 0 {
		w.mu.Lock()
		w.ttl = st.TTL()
		w.mu.Unlock()
	}
	sw, err := status.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer sw.Stop()
	lw, err := leaders.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer lw.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-sw.Updates():
			if !ok {
				return context.Canceled
			}
			if e != nil {
				w.onStatus(e)
			}
		case e, ok := <-lw.Updates():
			if !ok {
				return context.Canceled
			}
			if e != nil {
				w.onLeaders(e)
			}
		}
	}
}

func (w *watch) onStatus(e jetstream.KeyValueEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(w.status, e.Key())
		return
	}
	var hb schemas.Heartbeat
	if json.Unmarshal(e.Value(), &hb) == nil {
		w.status[e.Key()] = kvEntry[schemas.Heartbeat]{hb, e.Created()}
	}
}

func (w *watch) onLeaders(e jetstream.KeyValueEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := e.Key()
	if db, ok := strings.CutSuffix(k, ".plan"); ok {
		if e.Operation() != jetstream.KeyValuePut {
			delete(w.plans, db)
			return
		}
		var p schemas.Plan
		if json.Unmarshal(e.Value(), &p) != nil {
			return
		}
		if old, ok := w.plans[db]; ok {
			w.decide(db, old.value, p, e.Created())
		}
		w.plans[db] = kvEntry[schemas.Plan]{p, e.Created()}
		return
	}
	holder := ""
	if e.Operation() == jetstream.KeyValuePut {
		holder = string(e.Value())
	}
	w.setLease(k, holder, e.Created())
}

// setLease records the holder of db's lease; a change is a Lead event.
// Called with mu held.
func (w *watch) setLease(db, holder string, at time.Time) {
	old := w.leases[db]
	if old.value != holder {
		w.leads.add(LeadEvent{Time: at, Database: db, From: old.value, To: holder})
	}
	if holder == "" {
		delete(w.leases, db)
		return
	}
	w.leases[db] = kvEntry[string]{holder, at}
}

// decide records every tag whose count differs between two plans.
func (w *watch) decide(db string, old, now schemas.Plan, at time.Time) {
	tags := make([]string, 0, len(now.Workers))
	for t := range now.Workers {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	for _, t := range tags {
		if from, ok := old.Workers[t]; ok && from != now.Workers[t] {
			w.decisions.add(Decision{Time: at, Database: db, Tag: t, From: from, To: now.Workers[t], Leader: now.Leader})
		}
	}
}

// view is what the sampler reads of one database.
type view struct {
	lead      string
	plan      map[string]int
	instances []kvEntry[schemas.Heartbeat]
}

// of returns db's view, dropping what has expired.
func (w *watch) of(db string) view {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	// A lease not refreshed within its TTL has expired: nobody leads.
	if l, ok := w.leases[db]; ok && now.Sub(l.at) > w.ttl {
		w.setLease(db, "", l.at.Add(w.ttl))
	}
	v := view{lead: w.leases[db].value}
	if p, ok := w.plans[db]; ok && now.Sub(p.at) <= w.ttl {
		v.plan = p.value.Workers
	}
	prefix := db + "."
	for k, e := range w.status {
		if now.Sub(e.at) > w.ttl {
			delete(w.status, k)
			continue
		}
		if strings.HasPrefix(k, prefix) {
			v.instances = append(v.instances, e)
		}
	}
	slices.SortFunc(v.instances, func(a, b kvEntry[schemas.Heartbeat]) int {
		return strings.Compare(a.value.Instance, b.value.Instance)
	})
	return v
}

// recent returns the last decisions and Lead changes, oldest first.
func (w *watch) recent() ([]Decision, []LeadEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decisions.all(), w.leads.all()
}

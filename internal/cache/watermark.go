package cache

import (
	"sync"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// Watermarks notices lost invalidations. Each publisher of a database's
// invalidations numbers them 1, 2, 3, ... and every interval publishes
// the last number sent (schemas.Watermark). Watermarks follows them per
// database and publisher and says when a database must be dropped:
//
//   - a number skipped (by an invalidation or a watermark): lost;
//   - a publisher first heard of past its number 0: what came before may
//     have been lost while this cache was already filling;
//   - a publisher silent for two of its intervals, or a database whose
//     entries are expected but that hears from nobody for two intervals:
//     anything may have been lost.
//
// A final watermark (the publisher landing) forgets the publisher without
// a drop. It is safe for concurrent use; it does not drop anything
// itself: the caller drops the databases it is told.
type Watermarks struct {
	now func() time.Time
	mu  sync.Mutex
	dbs map[string]*dbMarks
}

type dbMarks struct {
	pubs     map[string]*pubMark
	heard    time.Time     // the last message of any publisher, or when it was first expected
	interval time.Duration // the last interval advertised
}

type pubMark struct {
	seq      uint64
	heard    time.Time
	interval time.Duration
}

// NewWatermarks returns an empty tracker.
func NewWatermarks() *Watermarks {
	return &Watermarks{now: time.Now, dbs: map[string]*dbMarks{}}
}

func (w *Watermarks) db(db string) *dbMarks {
	d := w.dbs[db]
	if d == nil {
		d = &dbMarks{pubs: map[string]*pubMark{}, heard: w.now(), interval: schemas.DefaultWatermarkInterval}
		w.dbs[db] = d
	}
	return d
}

// Expect says the caller holds (or is filling) entries of db: from now
// on, silence for two intervals drops it even if no publisher was ever
// heard of.
func (w *Watermarks) Expect(db string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.db(db)
}

// Invalidation records publisher pub's invalidation number seq of db and
// reports whether db must be dropped (a number was skipped, or pub is new
// and seq is not its first).
func (w *Watermarks) Invalidation(db, pub string, seq uint64) (drop bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.db(db)
	now := w.now()
	d.heard = now
	p := d.pubs[pub]
	if p == nil {
		d.pubs[pub] = &pubMark{seq: seq, heard: now, interval: d.interval}
		return seq != 1
	}
	p.heard = now
	if seq <= p.seq {
		return false // not newer: one connection keeps order, so a repeat of one already applied
	}
	drop = seq != p.seq+1
	p.seq = seq
	return drop
}

// Watermark records publisher pub's watermark for db: it has sent numbers
// up to seq, and sends a watermark every interval. It reports whether db
// must be dropped (this tracker has not seen seq, or pub is new and has
// sent something). A final watermark forgets pub after the check.
func (w *Watermarks) Watermark(db, pub string, seq uint64, interval time.Duration, final bool) (drop bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if interval <= 0 {
		interval = schemas.DefaultWatermarkInterval
	}
	d := w.db(db)
	now := w.now()
	d.heard, d.interval = now, interval
	p := d.pubs[pub]
	if p == nil {
		drop = seq > 0
		p = &pubMark{seq: seq}
		d.pubs[pub] = p
	} else if seq > p.seq {
		drop = true
		p.seq = seq
	}
	p.heard, p.interval = now, interval
	if final {
		delete(d.pubs, pub)
	}
	return drop
}

// Overdue returns the databases that must be dropped because a publisher
// or the whole database has been silent for more than two intervals. A
// silent publisher is forgotten; a silent database starts a new wait, so
// it is dropped again every two intervals while it stays silent.
func (w *Watermarks) Overdue() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var out []string
	for name, d := range w.dbs {
		drop := false
		for id, p := range d.pubs {
			if now.Sub(p.heard) > 2*p.interval {
				delete(d.pubs, id)
				drop = true
			}
		}
		if len(d.pubs) == 0 && now.Sub(d.heard) > 2*d.interval {
			d.heard = now
			drop = true
		}
		if drop {
			out = append(out, name)
		}
	}
	return out
}

// CheckEvery is how often Overdue should be called: a quarter of the
// shortest interval known, so an overdue database is dropped at most a
// quarter interval late.
func (w *Watermarks) CheckEvery() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	least := schemas.DefaultWatermarkInterval
	for _, d := range w.dbs {
		least = min(least, d.interval)
		for _, p := range d.pubs {
			least = min(least, p.interval)
		}
	}
	return max(least/4, 10*time.Millisecond)
}

// Forget drops everything known, e.g. after a reconnect, when the caller
// clears its cache: every publisher is then heard of anew.
func (w *Watermarks) Forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dbs = map[string]*dbMarks{}
}

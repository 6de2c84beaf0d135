package lead

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// invalidations is this instance's invalidation publisher for one
// database: the change publisher and every worker of the database send
// through it, on one connection, so the numbers it gives (1, 2, 3, ...)
// are the order every cache receives them in. Its id is new on every Run:
// a restarted instance is a new publisher, and caches learn it from its
// first watermark.
type invalidations struct {
	publish func(*nats.Msg) error // core NATS, one connection
	db      string
	source  string // ce-source of the watermarks
	id      string

	mu  sync.Mutex // numbers and publishes together: numbering order is publish order
	seq uint64
}

func newInvalidations(publish func(*nats.Msg) error, db, source string) *invalidations {
	return &invalidations{publish: publish, db: db, source: source, id: nuid.Next()}
}

// send numbers inv and publishes it. A failed publish still used its
// number: caches see the gap and drop the database, which is what a lost
// invalidation needs.
func (p *invalidations) send(source string, inv schemas.Invalidation) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	inv.Publisher, inv.PublisherSeq = p.id, p.seq
	return p.publish(wire.NewInvalidation(source, inv))
}

// watermark publishes the last number sent; final says the publisher is
// landing and sends no more.
func (p *invalidations) watermark(every time.Duration, final bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.publish(wire.NewWatermark(p.source, schemas.Watermark{
		Database: p.db, Publisher: p.id, PublisherSeq: p.seq, IntervalMS: every.Milliseconds(), Final: final, Time: time.Now(),
	}))
}

// watermarkJob publishes the database's invalidation watermark every
// interval, on every instance (not only the Lead's: every instance's
// workers publish invalidations). Run keeps it going until the workers
// have stopped, then sends the final one.
type watermarkJob struct {
	inv   *invalidations
	every time.Duration
	log   *slog.Logger
}

func (j *watermarkJob) run(ctx context.Context) error {
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		if err := j.inv.watermark(j.every, false); err != nil && ctx.Err() == nil {
			j.log.Warn("invalidation watermark", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

package lead

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Change-stream settings.
const (
	changesBatch   = 500
	changesMaxAge  = 7 * 24 * time.Hour
	changesDedupe  = 2 * time.Hour // Nats-Msg-Id window: a crash between publish and mark re-publishes nothing
	pruneEvery     = 10 * time.Minute
	changeSourceFx = "/dqm/lead/"
)

// EnsureChanges creates or updates the DQM_CHANGES stream every database's
// change events go to, on replicas nodes.
func EnsureChanges(ctx context.Context, js jetstream.JetStream, replicas int) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        schemas.ChangesStream,
		Description: "dqm change events from database triggers",
		Subjects:    []string{"dqm.*.changes.>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      changesMaxAge,
		Duplicates:  changesDedupe,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", schemas.ChangesStream, err)
	}
	return nil
}

// watched are the tables whose changes the Lead publishes: the configured
// trigger tables plus the catalog table, so an edited catalog reloads.
func watched(db *config.Database) []string {
	tables := slices.Clone(db.Triggers.Tables)
	if t := db.Catalog.Table; t != "" && !slices.Contains(tables, t) {
		tables = append(tables, t)
	}
	return tables
}

// changeSink is where change events go: JetStream (nats.go's JetStream).
type changeSink interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// changePublisher is the change publisher job. While this instance leads
// and holds a connection it installs the triggers (again on every new
// connection), then on every wake-up (PostgreSQL NOTIFY) or poll publishes
// the undelivered events in sequence order and marks exactly those
// delivered; every pruneEvery it prunes.
type changePublisher struct {
	db         *config.Database
	log        changeLog
	conn       *connHolder
	leader     *leaderState
	sink       changeSink
	invalidate func(schemas.Invalidation) error // numbered, core NATS: every cache (watermark.go)
	capturing  *atomic.Bool                     // set while the triggers are installed
	metrics    *metrics.Metrics
	logger     *slog.Logger

	installed uint64 // the connection the triggers were installed on; 0 if not
	wake      <-chan struct{}
	stopWake  context.CancelFunc
	pruned    time.Time
}

func (c *changePublisher) run(ctx context.Context) error {
	poll := time.NewTicker(orDefault(c.db.Triggers.PollInterval(), time.Second))
	defer poll.Stop()
	defer c.stop()
	for {
		leaderCh, connCh := c.leader.changed(), c.conn.changed()
		c.step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-c.wake: // nil while not listening
		case <-leaderCh:
		case <-connCh:
		}
	}
}

// step does what is due now: start or stop capturing, publish, prune.
func (c *changePublisher) step(ctx context.Context) {
	gen := c.conn.current()
	if !c.leader.get() || gen == 0 || gen != c.installed {
		c.stop()
	}
	if !c.leader.get() || gen == 0 {
		return
	}
	tables := watched(c.db)
	if len(tables) > 0 && c.installed == 0 {
		if err := c.start(ctx, gen, tables); err != nil {
			c.logger.Warn("triggers", "err", err)
			return
		}
	}
	if c.installed != 0 {
		if err := c.publish(ctx); err != nil {
			c.logger.Warn("publish changes", "err", err)
		}
	}
	if time.Since(c.pruned) >= pruneEvery {
		c.pruned = time.Now()
		if err := c.conn.use(func(conn engines.Conn) error { return c.log.Prune(ctx, conn) }); err != nil {
			c.logger.Warn("prune", "err", err)
		}
	}
}

// start installs the triggers on connection gen and, where the engine has
// one, starts listening for the wake-up.
func (c *changePublisher) start(ctx context.Context, gen uint64, tables []string) error {
	err := c.conn.use(func(conn engines.Conn) error { return c.log.Install(ctx, conn, tables) })
	if err != nil {
		return fmt.Errorf("install triggers: %w", err)
	}
	c.installed = gen
	c.capturing.Store(true)
	c.logger.Info("triggers installed", "tables", strings.Join(tables, ","))
	wctx, cancel := context.WithCancel(ctx)
	wake, err := c.log.Listen(wctx)
	if err != nil || wake == nil {
		cancel()
		if err != nil {
			c.logger.Warn("LISTEN failed; polling only", "err", err)
		}
		return nil
	}
	c.wake, c.stopWake = wake, cancel
	return nil
}

// stop ends capturing (on losing the lease or the connection, or landing).
func (c *changePublisher) stop() {
	if c.stopWake != nil {
		c.stopWake()
	}
	c.wake, c.stopWake, c.installed = nil, nil, 0
	c.capturing.Store(false)
}

// publish sends every undelivered event, then marks the published ones.
func (c *changePublisher) publish(ctx context.Context) error {
	return c.conn.use(func(conn engines.Conn) error {
		for {
			events, err := c.log.Fetch(ctx, conn, changesBatch)
			if err != nil || len(events) == 0 {
				return err
			}
			var done []int64
			for _, e := range events {
				if err := c.publishOne(ctx, e); err != nil {
					if len(done) > 0 {
						c.log.MarkDelivered(ctx, conn, done)
					}
					return err
				}
				done = append(done, e.Seq)
			}
			if err := c.log.MarkDelivered(ctx, conn, done); err != nil {
				return err
			}
			if len(events) < changesBatch {
				return nil
			}
		}
	})
}

// publishOne sends one event to the change stream (deduplicated by
// <db>-<seq>) and its invalidation to every cache.
func (c *changePublisher) publishOne(ctx context.Context, e engines.Event) error {
	db, table := c.db.Name, subjectTable(e.Table)
	msg := wire.NewChange(db, schemas.Change{Table: table, Op: e.Op, Data: e.Data, Timestamp: e.Time, SequenceID: e.Seq})
	if _, err := c.sink.PublishMsg(ctx, msg, jetstream.WithMsgID(wire.ChangeID(db, e.Seq))); err != nil {
		return fmt.Errorf("publish change %s: %w", wire.ChangeID(db, e.Seq), err)
	}
	if err := c.invalidate(schemas.Invalidation{Database: db, Table: table, SequenceID: e.Seq}); err != nil {
		return fmt.Errorf("invalidate %s: %w", table, err)
	}
	if c.metrics != nil {
		c.metrics.Changes.WithLabelValues(db, table).Inc()
	}
	return nil
}

// subjectTable is a table's subject token: the name without its schema,
// lower-cased, as the catalog derives a query's tables.
func subjectTable(t string) string {
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return strings.ToLower(t)
}

// orDefault is d, or def when d is not positive (an unvalidated config).
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Change-stream settings.
const (
	changesBatch   = 500
	changesMaxAge  = 7 * 24 * time.Hour
	changesDedupe  = 2 * time.Hour // Nats-Msg-Id window: a crash between publish and mark re-publishes nothing
	pruneEvery     = 10 * time.Minute
	deliveredKeep  = time.Hour // delivered trigger_events kept this long before pruning
	changeSourceFx = "/dqm/lead/"
)

// EnsureChanges creates or updates the DQM_CHANGES stream every database's
// change events go to.
func EnsureChanges(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        schemas.ChangesStream,
		Description: "dqm change events from database triggers",
		Subjects:    []string{"dqm.*.changes.>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      changesMaxAge,
		Duplicates:  changesDedupe,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", schemas.ChangesStream, err)
	}
	return nil
}

// watched are the tables whose changes the Lead publishes: the configured
// trigger tables plus the catalog table, so an edited catalog reloads.
func (l *Lead) watched() []string {
	tables := append([]string(nil), l.db.Triggers.Tables...)
	if t := l.db.Catalog.Table; t != "" && !slices.Contains(tables, t) {
		tables = append(tables, t)
	}
	return tables
}

// changes is the Lead's change publisher: triggers installed when it takes
// the lease, then every wake-up (PostgreSQL NOTIFY) or poll publishes the
// undelivered events in sequence order and marks exactly those delivered.
type changes struct {
	l         *Lead
	installed bool
	wake      <-chan struct{}
	stopWake  context.CancelFunc
	nextPoll  time.Time
	nextPrune time.Time
}

// start installs the triggers and, on PostgreSQL, starts listening.
func (c *changes) start(ctx context.Context, m *manager) error {
	if c.installed || len(c.l.watched()) == 0 {
		return nil
	}
	sys := c.l.deps.Engine.System()
	if err := sys.InstallTriggers(ctx, m.conn, c.l.db.DSN.Reveal(), c.l.watched()); err != nil {
		return fmt.Errorf("install triggers: %w", err)
	}
	c.installed = true
	c.l.capturing.Store(true)
	c.l.log.Info("triggers installed", "tables", strings.Join(c.l.watched(), ","))
	wctx, cancel := context.WithCancel(ctx)
	wake, err := sys.Wake(wctx, c.l.db.DSN.Reveal())
	if err != nil || wake == nil {
		cancel()
		if err != nil {
			c.l.log.Warn("LISTEN failed; polling only", "err", err)
		}
		return nil
	}
	c.wake, c.stopWake = wake, cancel
	return nil
}

// stop ends listening (on losing the lease or landing).
func (c *changes) stop() {
	if c.stopWake != nil {
		c.stopWake()
	}
	c.wake, c.stopWake, c.installed = nil, nil, false
	c.l.capturing.Store(false)
}

// due reports whether a poll is due.
func (c *changes) due(now time.Time) bool { return !now.Before(c.nextPoll) }

// publish sends every undelivered event, then marks the published ones.
func (c *changes) publish(ctx context.Context, m *manager, now time.Time) error {
	c.nextPoll = now.Add(c.l.db.Triggers.PollInterval())
	sys := c.l.deps.Engine.System()
	for {
		events, err := sys.FetchEvents(ctx, m.conn, 0, changesBatch)
		if err != nil || len(events) == 0 {
			return err
		}
		var done []int64
		for _, e := range events {
			if err := c.publishOne(ctx, e); err != nil {
				if len(done) > 0 {
					sys.MarkDelivered(ctx, m.conn, done)
				}
				return err
			}
			done = append(done, e.Seq)
		}
		if err := sys.MarkDelivered(ctx, m.conn, done); err != nil {
			return err
		}
		if len(events) < changesBatch {
			break
		}
	}
	if !now.Before(c.nextPrune) {
		c.nextPrune = now.Add(pruneEvery)
		if err := sys.PruneEvents(ctx, m.conn, deliveredKeep); err != nil {
			c.l.log.Warn("prune trigger events", "err", err)
		}
	}
	return nil
}

// publishOne sends one event to the change stream (deduplicated by
// <db>-<seq>) and its invalidation to every cache.
func (c *changes) publishOne(ctx context.Context, e engines.Event) error {
	db := c.l.db.Name
	table := subjectTable(e.Table)
	ch := schemas.Change{Database: db, Table: table, Op: e.Op, Data: e.Data, Timestamp: e.Time.UTC(), SequenceID: e.Seq}
	data, _ := json.Marshal(ch)
	id := db + "-" + strconv.FormatInt(e.Seq, 10)
	msg := nats.NewMsg(schemas.ChangesSubject(db, table, e.Op))
	msg.Header[schemas.HeaderSpecVersion] = []string{"1.0"}
	msg.Header[schemas.HeaderType] = []string{schemas.TypeChange}
	msg.Header[schemas.HeaderSource] = []string{changeSourceFx + db}
	msg.Header[schemas.HeaderID] = []string{id}
	msg.Header[schemas.HeaderTime] = []string{ch.Timestamp.Format(time.RFC3339Nano)}
	msg.Header[schemas.HeaderSubject] = []string{table}
	msg.Header[schemas.HeaderContentType] = []string{"application/json"}
	msg.Data = data
	if _, err := c.l.deps.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("publish change %s: %w", id, err)
	}
	inv, _ := json.Marshal(schemas.Invalidation{Database: db, Table: table, SequenceID: e.Seq})
	if err := c.l.deps.NC.Publish(schemas.InvalidateSubject(db, table), inv); err != nil {
		return fmt.Errorf("invalidate %s: %w", table, err)
	}
	if c.l.deps.Metrics != nil {
		c.l.deps.Metrics.Changes.WithLabelValues(db, table).Inc()
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

// requestsKeep is how long applied write ids are remembered: far longer
// than any redelivery (ack_wait × max_deliver).
const requestsKeep = 24 * time.Hour

// pruneRequests deletes old ids from dqm_requests.
func pruneRequests(ctx context.Context, m *manager) error {
	return m.deps.Engine.System().PruneRequests(ctx, m.conn, requestsKeep)
}

package workers

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
	"go.opentelemetry.io/otel/trace"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Config is what a worker needs; the lead fills it.
type Config struct {
	Database string
	Label    string   // DQM-<Db>-<NN>-<Tags>
	Tags     []string // request tags it serves
	Engine   engines.Engine
	DSN      string
	Options  engines.Options
	Catalog  func() *catalog.Catalog // the current catalog (it is swapped on reload)
	NC       *nats.Conn
	Stream   jetstream.Stream
	Source   string // ce-source of replies, e.g. /dqm/<instance>
	Logger   *slog.Logger
	// Observe, if set, is told the outcome of every request answered (the
	// metrics step calls it; Metrics is the newer way in).
	Observe func(tag string, code schemas.Code, queued, ran time.Duration)
	// Metrics, if set, counts rejected requests (dqm_requests_rejected_total)
	// and, when Observe is nil, records every answered one.
	Metrics *metrics.Metrics
	// ReplyPrefixes are the subject prefixes a reply may go to
	// (nats.reply_prefixes; empty: schemas.DefaultReplyPrefixes).
	ReplyPrefixes []string
	// Pulled, if set, is called when a request is taken off a queue: the
	// lead's scaler reacts to it at once instead of at its next poll.
	Pulled func(tag string)
	// Idempotent records each write's request id in dqm_requests in the
	// write's own transaction (the table must exist).
	Idempotent bool
	// Abort, when done, cancels the queries in flight (landing ran past its
	// bound); their requests are NAKed for redelivery, not answered.
	Abort context.Context
	// AckWait is the consumers' ack wait: a request that may run longer
	// is marked in progress while it runs, so it is not redelivered.
	AckWait time.Duration
	// Tracer, if set, records the queue wait and execution of every
	// request as spans (trace.go); nil is tracing off.
	Tracer trace.Tracer
	// Invalidate, if set, publishes a write's invalidations (the lead's
	// numbered publisher, so caches notice one they lost); nil publishes
	// them unnumbered on NC.
	Invalidate func(schemas.Invalidation) error
	// DirectReads is databases.<name>.direct_reads: the worker serves the
	// direct lane (direct.go) whatever its catalog says. Otherwise it
	// serves it while the catalog has a direct entry.
	DirectReads bool
	// CatalogChanged, if set, returns a channel closed at the next
	// catalog load: the worker then starts or stops serving the direct
	// lane as the new catalog says. Nil: the catalog is looked at once.
	CatalogChanged func() <-chan struct{}
}

// Worker is one queue: one connection, one or more tags.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	handler handler    // the request path, built once (chain.go)
	mu      sync.Mutex // serialises use of conn
	conn    engines.Conn
	direct  lane // the direct lane's micro service (direct.go)

	processed, failed atomic.Uint64

	// stopping, if set, is called when the worker's stop is noticed, and
	// pulling goes on until it returns: a test widens the window between
	// the two with it (pull.go).
	stopping func()
}

// Stats are the requests the worker answered, and how many of them failed.
func (w *Worker) Stats() (processed, failed uint64) { return w.processed.Load(), w.failed.Load() }

// Label is the worker's queue label.
func (w *Worker) Label() string { return w.cfg.Label }

// Tags are the request tags it serves.
func (w *Worker) Tags() []string { return w.cfg.Tags }

// New returns a worker; Run starts it.
func New(cfg Config) *Worker {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if len(cfg.ReplyPrefixes) == 0 {
		cfg.ReplyPrefixes = schemas.DefaultReplyPrefixes
	}
	// Lines logged with a request's context carry its trace_id.
	log = slog.New(tracing.LogHandler(log.Handler()))
	w := &Worker{cfg: cfg, log: log.With("db", cfg.Database, "queue", cfg.Label)}
	w.handler = w.chain()
	return w
}

// Run connects and serves the worker's tags until ctx ends, then stops
// pulling (pull.go): it answers the requests its last pulls bring, and
// closes the connection.
func (w *Worker) Run(ctx context.Context) error {
	if len(w.cfg.Tags) == 0 {
		return nil // the Lead keeps no tags: nothing to serve, no connection
	}
	defer w.closeConn()
	// Connect now so the first request does not pay for it; if the database
	// is down, requests reconnect and are answered 503 until it is back.
	w.mu.Lock()
	if conn, err := w.cfg.Engine.Open(ctx, w.cfg.DSN, w.cfg.Options); err != nil {
		w.log.Warn("connect failed; will retry on demand", "err", err)
	} else {
		w.conn = conn
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, len(w.cfg.Tags))
	for _, tag := range w.cfg.Tags {
		cons, err := w.cfg.Stream.Consumer(ctx, schemas.ConsumerName(w.cfg.Database, tag))
		if err != nil {
			return fmt.Errorf("worker %s: consumer %s: %w", w.cfg.Label, tag, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.pull(ctx, tag, cons)
		}()
	}
	wg.Go(func() { w.serveDirect(ctx) })
	w.log.Info("worker started", "tags", strings.Join(w.cfg.Tags, ","))
	wg.Wait()
	// After the last request pulled: one still queued for the lane's
	// handler is handed back from now on, not run on a closed connection.
	w.direct.close()
	close(errs)
	w.log.Info("worker stopped")
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// handle answers one message through the middleware chain (chain.go).
// In-flight work outlives the stop of fetching (ctx), not an abort.
func (w *Worker) handle(ctx context.Context, tag string, msg message) {
	base := context.WithoutCancel(ctx)
	if w.cfg.Abort != nil {
		base = w.cfg.Abort
	}
	w.handler(base, &request{msg: msg, tag: tag, pulled: time.Now()})
}

func (w *Worker) aborted() bool { return w.cfg.Abort != nil && w.cfg.Abort.Err() != nil }

// keepInProgress tells JetStream every interval that msg is still being
// worked on, until the returned stop is called; once stop returns, no mark
// is being sent or will be. A timer, not a goroutine per request.
func keepInProgress(msg message, every time.Duration) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		msg.InProgress()
		t.Reset(every)
	})
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// applied looks up the record of a write with this request id.
func (w *Worker) applied(ctx context.Context, id string) (engines.Recorded, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.open(ctx); err != nil {
		return engines.Recorded{}, false, err
	}
	rec, done, err := w.cfg.Engine.System().Applied(ctx, w.conn, id)
	if engines.IsConnLost(err) {
		w.conn.Close()
		w.conn = nil
	}
	return rec, done, err
}

// invalidate tells every cache that a write through dqm changed tables.
// It is published before the reply, so other instances learn of it no
// later than the writer; the writer's own client drops its entries itself
// on the reply (read-your-writes). Writes by others arrive through the
// Lead's trigger events.
func (w *Worker) invalidate(db string, ref int64, tables []string) {
	for _, t := range tables {
		inv := schemas.Invalidation{Database: db, Table: t, QueryRefs: []int64{ref}}
		var err error
		if w.cfg.Invalidate != nil {
			err = w.cfg.Invalidate(inv)
		} else {
			err = w.cfg.NC.PublishMsg(wire.NewInvalidation(w.cfg.Source, inv))
		}
		if err != nil {
			w.log.Warn("invalidate", "table", t, "err", err)
		}
	}
}

// run executes on the worker's connection, connecting first if needed. A
// lost connection is dropped here, for every statement dqm runs (its own
// included), so the next request reconnects; the request is answered 503.
// Retrying a deadlock is the retry step's (execute.go).
func (w *Worker) run(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.open(ctx); err != nil {
		return nil, err
	}
	res, err := w.conn.Run(ctx, stmts)
	if err != nil && engines.IsConnLost(err) {
		w.log.Warn("connection lost; reconnecting on next request", "err", err)
		w.conn.Close()
		w.conn = nil
	}
	return res, err
}

// open connects unless connected; w.mu is held.
func (w *Worker) open(ctx context.Context) error {
	if w.conn == nil {
		conn, err := w.cfg.Engine.Open(ctx, w.cfg.DSN, w.cfg.Options)
		if err != nil {
			return unavailable(err)
		}
		w.conn = conn
	}
	return nil
}

// unavailable turns a connect failure into a 503 that names no DSN.
func unavailable(err error) error {
	if schemas.CodeOf(err) == schemas.CodeUnavailable {
		return err
	}
	return &schemas.Error{Code: schemas.CodeUnavailable, Message: "database unavailable", Err: err}
}

func (w *Worker) closeConn() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

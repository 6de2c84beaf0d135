package console

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
)

// Defaults of Config.
const (
	DefaultInterval  = time.Second
	DefaultHistory   = 15 * time.Minute
	DefaultStreamFor = 5 * time.Minute
)

// Config is what the console reads.
type Config struct {
	Instance  string
	Databases map[string]*config.Database
	// Local is this instance's view of a database (its lead.Lead); nil
	// or a nil result: unknown here.
	Local   func(db string) Local
	JS      jetstream.JetStream
	Metrics *metrics.Metrics
	Cache   *cache.Cache
	Log     *slog.Logger
	// Interval is the sampling period (default 1 s); History how much
	// of it is kept for the charts (default 15 minutes).
	Interval, History time.Duration
	// StreamFor bounds one event stream, after which the page
	// reconnects and resumes where it was: set it below
	// http.write_timeout_ms, which ends any response (default 5 min).
	StreamFor time.Duration
	// AuthMode says how the console is guarded: AuthToken or
	// AuthLoopback.
	AuthMode string
	// AdminClaim is auth.admin_claim, named on the page's token form.
	AdminClaim string
	// MaxBodyBytes bounds a POST body (http.max_body_bytes; default 1 MiB).
	MaxBodyBytes int64
}

// How the console is guarded (Config.AuthMode).
const (
	// AuthToken: every data endpoint needs an admin bearer token.
	AuthToken = "token"
	// AuthLoopback: no auth configured; served on a loopback listener to
	// loopback hosts only.
	AuthLoopback = "loopback"
)

// Local is one database as this instance runs it.
type Local interface {
	Engine() string
	State() string
	Ready() bool
	LastHeartbeat() time.Time
	Catalog() *catalog.Catalog
}

// Console samples and serves; Run samples until its context ends.
type Console struct {
	cfg   Config
	dbs   []string
	watch *watch
	tail  *tail
	ticks *notifier
	// closing ends every open event stream (http.Server's shutdown).
	closing chan struct{}
	once    sync.Once

	mu    sync.Mutex
	hist  *ring[Point]
	state State
	seq   uint64
}

// New returns a console; Run starts its sampling.
func New(cfg Config) *Console {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.StreamFor <= 0 {
		cfg.StreamFor = DefaultStreamFor
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Console{cfg: cfg, watch: newWatch(), tail: newTail(), ticks: newNotifier(), closing: make(chan struct{}),
		hist: newRing[Point](int(cfg.History / cfg.Interval))}
	for name := range cfg.Databases {
		c.dbs = append(c.dbs, name)
	}
	slices.Sort(c.dbs)
	c.state = State{Instance: cfg.Instance, IntervalMS: cfg.Interval.Milliseconds(), Databases: []DBState{},
		Scale: []Decision{}, Leads: []LeadEvent{}, HTTP: []Route{}}
	return c
}

// Run samples every Interval, follows the KV buckets and the change
// stream, until ctx ends; it returns when all of that has stopped.
func (c *Console) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.watch.run(ctx, c.cfg.JS) })
	wg.Go(func() { c.tail.run(ctx, c.cfg.JS) })
	b := newBuilder(c)
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, c.cfg.Interval*4/5)
		st, pt := b.build(sctx)
		cancel()
		c.publish(st, pt)
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// CloseStreams ends every open event stream and refuses new ones: give
// it to http.Server.RegisterOnShutdown, so landing does not wait for
// pages that never disconnect.
func (c *Console) CloseStreams() { c.once.Do(func() { close(c.closing) }) }

func (c *Console) publish(st State, pt Point) {
	c.mu.Lock()
	c.seq++
	st.Seq, pt.Seq = c.seq, c.seq
	c.state = st
	c.hist.add(pt)
	c.mu.Unlock()
	c.ticks.fire()
}

// current returns the last state and the points after seq.
func (c *Console) current(after uint64) (State, []Point) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.hist.since(func(p Point) bool { return p.Seq > after })
}

// notifier wakes every waiter at once: wait returns a channel that fire
// closes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) fire() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

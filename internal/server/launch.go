package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/clientlink"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/topology"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/lead"
)

// Start launches an instance in named steps: NATS, the client side
// (tracing, metrics, cache, Go client), the JetStream topology, the
// databases, HTTP. The HTTP listener is open when it returns; databases
// become ready in the background (see /readyz). On an error what was
// launched is landed again.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	s := newServer(cfg, log, opts)
	s.log.Info("launch: config validated", "databases", len(cfg.Databases), "instance", s.instance)
	err := s.startNATS()
	if err == nil {
		err = s.startClient()
	}
	var topo *topology.Topology
	var shared *topology.Shared
	if err == nil {
		topo, shared, err = s.startTopology(ctx)
	}
	if err == nil {
		err = s.startDatabases(ctx, topo, shared)
	}
	if err == nil {
		err = s.startHTTP()
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func newServer(cfg *config.Config, log *slog.Logger, opts []Option) *Server {
	if log == nil {
		log = slog.Default()
	}
	// A line logged with a traced context carries trace_id.
	log = slog.New(tracing.LogHandler(log.Handler()))
	s := &Server{cfg: cfg, log: log, instance: instanceID(), leads: map[string]*lead.Lead{}, done: make(chan struct{})}
	s.describe.s = s
	for _, o := range opts {
		o(&s.opts)
	}
	return s
}

// startNATS runs the embedded server when nats.url is "embedded", and
// connects.
func (s *Server) startNATS() (err error) {
	cfg := s.cfg.NATS
	if cfg.URL == "embedded" {
		if err := os.MkdirAll(cfg.StoreDir, 0o755); err != nil {
			return err
		}
		if s.ns, err = Embed(cfg); err != nil {
			return err
		}
		s.log.Info("launch: embedded NATS ready", "url", s.ns.ClientURL())
	}
	if s.nc, err = Connect(cfg, s.ns, "dqm "+s.instance, nats.ErrorHandler(asyncErrors(s.log))); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	s.js, err = jetstream.New(s.nc)
	return err
}

// startClient makes what the requests pass through: tracing, metrics,
// the result cache and the Go client the REST adapter uses.
func (s *Server) startClient() (err error) {
	t := s.cfg.Tracing
	if s.tracing, err = tracing.New(tracing.Options{Endpoint: t.OTLPEndpoint, SampleRatio: t.SampleRatio, Instance: s.instance}); err != nil {
		return err
	}
	if s.tracing.Tracer() != nil { // nil when off: no spans started at all
		s.log.Info("launch: tracing", "otlp_endpoint", t.OTLPEndpoint, "sample_ratio", t.SampleRatio)
	}
	s.metrics = metrics.New()
	instanceCache := client.NewCache(s.cfg.Cache.MaxEntries, s.cfg.Cache.MaxBytes)
	s.cache = clientlink.Cache(instanceCache)
	s.cache.OnEvent = s.metrics.CacheEvent
	s.client, err = client.New(s.nc, client.WithSource("/dqm/ingress/"+s.instance), client.WithCache(instanceCache),
		client.WithReplyPrefixes(s.cfg.NATS.ReplyPrefixes...), client.WithTracer(s.tracing.Tracer()), client.WithDatabases(func(db string) bool {
			_, ok := s.cfg.Databases[db]
			return ok
		}))
	return err
}

// startTopology creates or updates the JetStream resources every database
// shares (internal/topology); each database's own come with its Lead.
func (s *Server) startTopology(ctx context.Context) (*topology.Topology, *topology.Shared, error) {
	topo := topology.New(s.cfg, s.log)
	shared, err := topo.EnsureShared(ctx, s.js)
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("launch: JetStream topology ready", "replicas", topo.Replicas())
	return topo, shared, nil
}

// startDatabases starts a Lead per database; each makes its stream and
// consumers, connects and starts its workers in the background.
func (s *Server) startDatabases(ctx context.Context, topo *topology.Topology, shared *topology.Shared) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	abortCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	s.abort = abort
	s.repl = s.newReplication(s.js)
	s.runReplication(runCtx)
	for name, db := range s.cfg.Databases {
		deps := lead.Deps{NC: s.nc, JS: s.js, Leaders: shared.Leaders, Status: shared.Status,
			Instance: s.instance, Logger: s.log, Metrics: s.metrics, Tick: s.opts.Tick, CacheEntries: s.cache.Len,
			Catalogs: shared.Catalogs, OnCatalog: s.cache.DropRefs, Abort: abortCtx, ReplyPrefixes: s.cfg.NATS.ReplyPrefixes,
			Tracer: s.tracing.Tracer(), Watermark: s.cfg.Cache.Watermark(), Topology: topo, Replication: s.repl.For}
		if err := s.engines(name, db, &deps); err != nil {
			return err
		}
		l := lead.New(db, deps)
		s.leads[name] = l
		s.wg.Go(func() {
			if err := l.Run(runCtx); err != nil {
				s.log.Error("database failed to launch", "db", name, "err", err)
			}
		})
	}
	return nil
}

// engines sets a database's engine, its catalog host's and the demo seed
// in deps, and prepares its DSN.
func (s *Server) engines(name string, db *config.Database, deps *lead.Deps) (err error) {
	if deps.Engine, err = engineFor(db); err != nil {
		return err
	}
	if h := db.Catalog.Host; h != "" {
		host, ok := s.cfg.Databases[h]
		if !ok {
			return fmt.Errorf("databases.%s.catalog.host: no database %q", name, h)
		}
		if deps.HostEngine, err = engineFor(host); err != nil {
			return err
		}
		deps.Host = host
	}
	if p, ok := deps.Engine.(dsnPreparer); ok {
		if err := p.PrepareDSN(db.DSN.Reveal()); err != nil {
			// Not fatal: the database stays not ready and is retried.
			s.log.Warn("prepare dsn", "db", name, "err", err)
		}
	}
	if d, ok := deps.Engine.(demoSeeder); ok && name == "demo" {
		deps.Seed = d.DemoSeed()
	}
	return nil
}

// dsnPreparer is an engine whose DSN names something to create before
// the first connection (SQLite: the database file's directory).
type dsnPreparer interface{ PrepareDSN(dsn string) error }

// demoSeeder is an engine that can fill the demo database of `make run`.
type demoSeeder interface{ DemoSeed() string }

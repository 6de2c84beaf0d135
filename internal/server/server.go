package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/internal/jsretry"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/replication"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/lead"
	"github.com/dqmhq/dqm/schemas"
)

// Server is one running dqm instance.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	instance string

	ns     *Embedded
	nc     *nats.Conn
	client *ingress.Client
	leads  map[string]*lead.Lead
	http   *http.Server
	ln     net.Listener

	metrics *metrics.Metrics
	repl    *replication.Watcher // the streams' replication (replication.go)
	cache   *cache.Cache
	tracing *tracing.Provider
	opts    Options

	cancel context.CancelFunc // stops the leads and their workers
	abort  context.CancelFunc // cancels in-flight queries when landing overruns
	wg     sync.WaitGroup
	once   sync.Once
	done   chan struct{}
	err    error
}

// Start launches an instance. The HTTP listener is open when it returns;
// databases become ready in the background (see /readyz).
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (s *Server, err error) {
	if log == nil {
		log = slog.Default()
	}
	// A line logged with a traced context carries trace_id.
	log = slog.New(tracing.LogHandler(log.Handler()))
	s = &Server{cfg: cfg, log: log, instance: instanceID(), leads: map[string]*lead.Lead{}, done: make(chan struct{})}
	for _, o := range opts {
		o(&s.opts)
	}
	// The returns below give (nil, err), so the cleanup keeps its own
	// reference: what was launched before the error is landed again.
	launched := s
	defer func() {
		if err != nil {
			launched.close()
		}
	}()
	log.Info("launch: config validated", "databases", len(cfg.Databases), "instance", s.instance)
	if cfg.NATS.URL == "embedded" {
		if err := os.MkdirAll(cfg.NATS.StoreDir, 0o755); err != nil {
			return nil, err
		}
		if s.ns, err = Embed(cfg.NATS); err != nil {
			return nil, err
		}
		log.Info("launch: embedded NATS ready", "url", s.ns.ClientURL())
	}
	if s.nc, err = Connect(cfg.NATS, s.ns, "dqm "+s.instance, nats.ErrorHandler(asyncErrors(log))); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		return nil, err
	}
	if s.tracing, err = tracing.New(tracing.Options{Endpoint: cfg.Tracing.OTLPEndpoint,
		SampleRatio: cfg.Tracing.SampleRatio, Instance: s.instance}); err != nil {
		return nil, err
	}
	tracer := s.tracing.Tracer() // nil when off: no spans started at all
	if tracer != nil {
		log.Info("launch: tracing", "otlp_endpoint", cfg.Tracing.OTLPEndpoint, "sample_ratio", cfg.Tracing.SampleRatio)
	}
	s.metrics = metrics.New()
	s.cache = cache.New(cfg.Cache.MaxEntries, cfg.Cache.MaxBytes)
	s.cache.OnEvent = s.metrics.CacheEvent
	if s.client, err = ingress.NewClient(s.nc, ingress.WithSource("/dqm/ingress/"+s.instance), ingress.WithCache(s.cache),
		ingress.WithReplyPrefixes(cfg.NATS.ReplyPrefixes...), ingress.WithTracer(tracer), ingress.WithDatabases(func(db string) bool {
			_, ok := cfg.Databases[db]
			return ok
		})); err != nil {
		return nil, err
	}
	// A cluster that is still forming or electing a leader refuses these
	// for a while ("no suitable peers for placement"): retried, bounded.
	setup := func(what string, op func(context.Context) error) error {
		return jsretry.Do(ctx, log, cfg.NATS.SetupTimeout(), what, op)
	}
	var leaders, status, catalogs jetstream.KeyValue
	if err := setup("kv buckets", func(ctx context.Context) (err error) {
		leaders, status, err = ensureBuckets(ctx, js, cfg)
		return err
	}); err != nil {
		return nil, err
	}
	if err := setup("kv "+schemas.BucketCatalog, func(ctx context.Context) (err error) {
		catalogs, err = ensureCatalogs(ctx, js, cfg.NATS.Replicas)
		return err
	}); err != nil {
		return nil, err
	}
	if err := setup("stream "+schemas.ChangesStream, func(ctx context.Context) error {
		return lead.EnsureChanges(ctx, js, cfg.NATS.Replicas)
	}); err != nil {
		return nil, err
	}
	if err := setup("stream "+schemas.DLQStream, func(ctx context.Context) error {
		_, err := deadletter.EnsureStream(ctx, js, deadletter.Limits{MaxAge: cfg.DeadLetters.MaxAge(), MaxMsgs: cfg.DeadLetters.MaxMsgs, Replicas: cfg.NATS.Replicas})
		return err
	}); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	abortCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	s.abort = abort
	s.repl = s.newReplication(js)
	s.runReplication(runCtx)
	for name, db := range cfg.Databases {
		engine, err := engineFor(db)
		if err != nil {
			return nil, err
		}
		deps := lead.Deps{NC: s.nc, JS: js, Leaders: leaders, Status: status, Engine: engine,
			Instance: s.instance, Logger: log, Metrics: s.metrics, Tick: s.opts.Tick, CacheEntries: s.cache.Len,
			Catalogs: catalogs, OnCatalog: s.cache.DropRefs, Abort: abortCtx, ReplyPrefixes: cfg.NATS.ReplyPrefixes,
			Tracer: tracer, Watermark: cfg.Cache.Watermark(),
			SetupTimeout: cfg.NATS.SetupTimeout(), Replicas: cfg.NATS.Replicas, Replication: s.repl.For}
		if h := db.Catalog.Host; h != "" {
			host, ok := cfg.Databases[h]
			if !ok {
				return nil, fmt.Errorf("databases.%s.catalog.host: no database %q", name, h)
			}
			if deps.HostEngine, err = engineFor(host); err != nil {
				return nil, err
			}
			deps.Host = host
		}
		if p, ok := engine.(dsnPreparer); ok {
			if err := p.PrepareDSN(db.DSN.Reveal()); err != nil {
				// Not fatal: the database stays not ready and is retried.
				log.Warn("prepare dsn", "db", name, "err", err)
			}
		}
		if d, ok := engine.(demoSeeder); ok && name == "demo" {
			deps.Seed = d.DemoSeed()
		}
		l := lead.New(db, deps)
		s.leads[name] = l
		s.wg.Go(func() {
			if err := l.Run(runCtx); err != nil {
				log.Error("database failed to launch", "db", name, "err", err)
			}
		})
	}
	a := cfg.Auth
	auth, err := ingress.NewAuth(ingress.AuthConfig{Secret: []byte(a.JWTSecret.Reveal()), PublicKeyFile: a.JWTPublicKeyFile,
		JWKSFile: a.JWKSFile, Leeway: a.Leeway(), Audience: a.Audience, Issuer: a.Issuer,
		AltRequiresDatabasesClaim: a.AltRequiresDatabasesClaim})
	if err != nil {
		return nil, err
	}
	// Which algorithms, never which key.
	log.Info("launch: auth", "enabled", auth.Enabled(), "algorithms", strings.Join(auth.Algorithms(), ","))
	h := cfg.HTTP
	rest := ingress.NewREST(s.client, s, ingress.RESTConfig{
		MaxBodyBytes:         h.MaxBodyBytes,
		MaxQueriesPerRequest: h.MaxQueriesPerRequest,
		MaxResponseBytes:     h.MaxResponseBytes,
		MaxInFlight:          h.MaxInFlight,
		Auth:                 auth,
	})
	rest.Handle("GET /metrics", s.metrics.Handler())
	rest.Handle("GET /openapi.json", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(schemas.OpenAPI)
	}))
	if s.ln, err = net.Listen("tcp", h.Listen); err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	s.http = &http.Server{Handler: ingress.TraceHTTP(tracer, s.countRequests(rest)), ReadTimeout: h.ReadTimeout(), ReadHeaderTimeout: h.ReadHeaderTimeout(),
		WriteTimeout: h.WriteTimeout(), IdleTimeout: h.IdleTimeout(), MaxHeaderBytes: h.MaxHeaderBytes}
	go func() {
		if err := s.http.Serve(ingress.JSONErrors(s.ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http", "err", err)
		}
	}()
	log.Info("launch: HTTP listening", "addr", s.ln.Addr().String())
	return s, nil
}

// dsnPreparer is an engine whose DSN names something to create before
// the first connection (SQLite: the database file's directory).
type dsnPreparer interface{ PrepareDSN(dsn string) error }

// demoSeeder is an engine that can fill the demo database of `make run`.
type demoSeeder interface{ DemoSeed() string }

// Instance is this instance's id (hostname plus a random suffix).
func (s *Server) Instance() string { return s.instance }

// Lead returns the lead of a database on this instance.
func (s *Server) Lead(db string) *lead.Lead { return s.leads[db] }

// Cache is the instance's result cache.
func (s *Server) Cache() *cache.Cache { return s.cache }

// Metrics are the instance's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// HTTPAddr is the address HTTP listens on.
func (s *Server) HTTPAddr() string { return s.ln.Addr().String() }

// NATS is the instance's NATS connection.
func (s *Server) NATS() *nats.Conn { return s.nc }

// Client is the instance's Go client.
func (s *Server) Client() *ingress.Client { return s.client }

// Catalog implements ingress.Databases.
func (s *Server) Catalog(db string) (*catalog.Catalog, bool) {
	l, ok := s.leads[db]
	if !ok {
		return nil, false
	}
	return l.Catalog(), true
}

// Status implements ingress.Databases.
func (s *Server) Status() map[string]ingress.DatabaseStatus {
	out := make(map[string]ingress.DatabaseStatus, len(s.leads))
	for name, l := range s.leads {
		out[name] = ingress.DatabaseStatus{Ready: l.Ready() && s.streamLed(name), Engine: l.Engine(), State: l.State(),
			QueryCacheEntries: s.cache.Len(name), LastHeartbeat: l.LastHeartbeat(), Queues: l.Queues(), Stream: s.streamOf(name)}
	}
	return out
}

// Ready reports whether every database is ready: connected, its catalog
// loaded, its request stream led.
func (s *Server) Ready() bool {
	for name, l := range s.leads {
		if !l.Ready() || !s.streamLed(name) {
			return false
		}
	}
	return true
}

// Shutdown lands the instance in order: HTTP stops accepting and finishes
// its requests (their replies still come from running workers), then the
// workers stop fetching and finish what they run, connections close and
// NATS drains. Requests that were queued but not started stay in
// JetStream for redelivery. ctx bounds the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		defer close(s.done)
		s.log.Info("landing: stop HTTP")
		if s.http != nil {
			if err := s.http.Shutdown(ctx); err != nil {
				s.err = errors.Join(s.err, fmt.Errorf("http shutdown: %w", err))
			}
		}
		s.log.Info("landing: stop workers and leads")
		closed := make(chan struct{})
		go func() { s.close(); close(closed) }()
		select {
		case <-closed:
		case <-ctx.Done():
			// Past the bound: cancel what still runs; those requests are
			// NAKed and redelivered to another instance, never dropped.
			s.log.Warn("landing: bound passed; cancelling in-flight queries")
			s.abort()
			<-closed
		}
		s.log.Info("landing: done")
	})
	<-s.done
	return s.err
}

func (s *Server) close() {
	if s.cancel != nil {
		s.cancel()
	}
	defer func() {
		if s.abort != nil {
			s.abort()
		}
	}()
	s.wg.Wait()
	if s.client != nil {
		s.client.Close()
	}
	drain(s.nc)
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	// Last: the spans of the requests landed above are exported.
	if s.tracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.tracing.Shutdown(ctx); err != nil {
			s.log.Warn("tracing: export on shutdown", "err", err)
		}
		cancel()
	}
}

// drain flushes and closes a connection, waiting until it is closed.
func drain(nc *nats.Conn) {
	if nc == nil || nc.IsClosed() {
		return
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		nc.Close()
	}
}

// countRequests counts REST requests and their duration by route pattern
// and status.
func (s *Server) countRequests(h http.Handler) http.Handler {
	// The series of a route and status, looked up once: the label hash
	// and the vectors' locks are not paid per request.
	type series struct {
		requests prometheus.Counter
		duration prometheus.Observer
	}
	type key struct {
		route  string
		status int
	}
	var known sync.Map // key → series
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		k := key{route, sw.status}
		v, ok := known.Load(k)
		if !ok {
			status := strconv.Itoa(sw.status)
			v, _ = known.LoadOrStore(k, series{s.metrics.HTTPRequests.WithLabelValues(route, status),
				s.metrics.HTTPDuration.WithLabelValues(route, status)})
		}
		m := v.(series)
		m.requests.Inc()
		m.duration.Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

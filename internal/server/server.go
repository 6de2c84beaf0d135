package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/replication"
	"github.com/dqmhq/dqm/internal/tracing"
	"github.com/dqmhq/dqm/lead"
)

// Server is one running dqm instance.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	instance string

	ns     *Embedded
	nc     *nats.Conn
	js     jetstream.JetStream
	client *client.Client
	leads  map[string]*lead.Lead
	http   *http.Server
	ln     net.Listener

	metrics *metrics.Metrics
	cache   *cache.Cache
	tracing *tracing.Provider
	opts    Options

	repl *replication.Watcher // the streams' replication (replication.go)

	stopConsole context.CancelFunc // ends the console sampler (console.go)

	describe describer // rows of the per-database OpenAPI (describe.go)

	cancel context.CancelFunc // stops the leads and their workers
	abort  context.CancelFunc // cancels in-flight queries when landing overruns
	wg     sync.WaitGroup
	once   sync.Once
	done   chan struct{}
	err    error
}

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
func (s *Server) Client() *client.Client { return s.client }

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

package server

import (
	"net/http"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Hooks for the end-to-end tests in test/, which drive an instance from
// outside the package. Nothing else should call them.

// Kill stops the instance the way a crash would: the NATS connection goes
// first (no drain, no lease release, no acks), then everything else. For
// tests of failover.
func (s *Server) Kill() {
	s.once.Do(func() {
		defer close(s.done)
		s.nc.Close()
		if s.http != nil {
			s.http.Close()
		}
		s.close()
	})
}

// Handler is the instance's whole HTTP handler, middleware included, for
// benchmarks that skip the network.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// EmbeddedServer is the instance's embedded nats-server (nil when it uses
// an external one), for tests of embedded clustering.
func (s *Server) EmbeddedServer() *natsserver.Server {
	if s.ns == nil {
		return nil
	}
	return s.ns.Server
}

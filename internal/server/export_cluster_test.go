package server

import natsserver "github.com/nats-io/nats-server/v2/server"

// EmbeddedServer is the instance's embedded nats-server (nil when it uses
// an external one).
func (s *Server) EmbeddedServer() *natsserver.Server {
	if s.ns == nil {
		return nil
	}
	return s.ns.Server
}

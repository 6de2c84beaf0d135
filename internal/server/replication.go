package server

import (
	"context"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/replication"
	"github.com/dqmhq/dqm/schemas"
)

// newReplication is the watcher of every stream and bucket the instance
// uses: status, the heartbeat and /readyz read it.
func (s *Server) newReplication(js jetstream.JetStream) *replication.Watcher {
	dbs := make([]string, 0, len(s.cfg.Databases))
	for name := range s.cfg.Databases {
		dbs = append(dbs, name)
	}
	slices.Sort(dbs)
	return &replication.Watcher{JS: js, NC: s.nc, Streams: replication.Streams(dbs), Replicas: s.cfg.NATS.Replicas,
		Log: s.log, Metrics: s.metrics}
}

// runReplication reads the streams until ctx ends, owned by s.wg.
func (s *Server) runReplication(ctx context.Context) {
	s.wg.Go(func() { s.repl.Run(ctx) })
}

// Replication is the last reading of the streams' replication.
func (s *Server) Replication() schemas.Replication { return s.repl.Snapshot() }

// streamLed reports whether db's request stream has a leader: without
// one it takes no request, and the instance is not ready.
func (s *Server) streamLed(db string) bool {
	return s.repl == nil || s.repl.Led(schemas.StreamName(db))
}

// streamOf is db's request stream's last reading, for its status.
func (s *Server) streamOf(db string) *schemas.StreamReplication {
	if s.repl == nil {
		return nil
	}
	if r, ok := s.repl.Stream(schemas.StreamName(db)); ok {
		return &r
	}
	return nil
}

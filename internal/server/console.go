package server

import (
	"context"
	"net/http"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/console"
)

// mountConsole serves the operator console (internal/console) on the
// REST adapter — behind an admin token when auth is configured, else on
// a loopback listener only — or, when neither holds, logs why it is off
// and answers its paths 404 saying so. Its sampling runs until ctx ends.
func (s *Server) mountConsole(ctx context.Context, rest *ingress.REST, auth *ingress.Auth, js jetstream.JetStream) {
	h := s.cfg.HTTP
	if ok, why := console.Allowed(auth.Enabled(), h.Listen); !ok {
		s.log.Warn("console: off", "reason", why)
		for _, p := range []string{"/console", "/console/", "/api/console/"} {
			rest.Handle(p, console.Off(why))
		}
		return
	}
	mode, gate := console.AuthLoopback, console.Loopback
	if auth.Enabled() {
		claim := s.cfg.Auth.AdminClaim
		mode, gate = console.AuthToken, func(next http.Handler) http.Handler { return rest.AdminOnly(claim, next) }
	}
	// An event stream ends before http.write_timeout_ms would cut it;
	// the page reconnects where it was.
	streamFor := console.DefaultStreamFor
	if wt := h.WriteTimeout(); wt > 0 {
		streamFor = min(streamFor, wt*3/4)
	}
	c := console.New(console.Config{Instance: s.instance, Databases: s.cfg.Databases, Local: s.localDatabase, JS: js,
		Metrics: s.metrics, Cache: s.cache, Log: s.log, StreamFor: streamFor, AuthMode: mode,
		AdminClaim: s.cfg.Auth.AdminClaim, MaxBodyBytes: h.MaxBodyBytes})
	c.Mount(rest.Handle, gate, http.HandlerFunc(rest.AdminQuery))
	s.http.RegisterOnShutdown(c.CloseStreams)
	s.wg.Go(func() { c.Run(ctx) })
	s.log.Info("launch: console", "path", "/console", "auth", mode)
}

// localDatabase is this instance's Lead of db, for the console.
func (s *Server) localDatabase(db string) console.Local {
	if l, ok := s.leads[db]; ok {
		return l
	}
	return nil
}

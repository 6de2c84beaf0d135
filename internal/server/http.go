package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/schemas"
)

// startHTTP opens the REST adapter, with auth, metrics and the OpenAPI
// document, on http.listen.
func (s *Server) startHTTP() error {
	a := s.cfg.Auth
	auth, err := ingress.NewAuth(ingress.AuthConfig{Secret: []byte(a.JWTSecret.Reveal()), PublicKeyFile: a.JWTPublicKeyFile,
		JWKSFile: a.JWKSFile, Leeway: a.Leeway(), Audience: a.Audience, Issuer: a.Issuer,
		AltRequiresDatabasesClaim: a.AltRequiresDatabasesClaim})
	if err != nil {
		return err
	}
	// Which algorithms, never which key.
	s.log.Info("launch: auth", "enabled", auth.Enabled(), "algorithms", strings.Join(auth.Algorithms(), ","))
	h := s.cfg.HTTP
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
		return fmt.Errorf("http.listen: %w", err)
	}
	s.http = &http.Server{Handler: ingress.TraceHTTP(s.tracing.Tracer(), s.countRequests(rest)), ReadTimeout: h.ReadTimeout(), ReadHeaderTimeout: h.ReadHeaderTimeout(),
		WriteTimeout: h.WriteTimeout(), IdleTimeout: h.IdleTimeout(), MaxHeaderBytes: h.MaxHeaderBytes}
	// The console's sampler lives as long as the listener: it stops when
	// HTTP shuts down (landing) or is closed (a failed launch).
	consoleCtx, stopConsole := context.WithCancel(context.Background())
	s.http.RegisterOnShutdown(stopConsole)
	s.stopConsole = stopConsole
	s.mountConsole(consoleCtx, rest, auth, s.js)
	go func() {
		if err := s.http.Serve(ingress.JSONErrors(s.ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http", "err", err)
		}
	}()
	s.log.Info("launch: HTTP listening", "addr", s.ln.Addr().String())
	return nil
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
		sw := ingress.NewStatusWriter(w)
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		k := key{route, sw.Status}
		v, ok := known.Load(k)
		if !ok {
			status := strconv.Itoa(sw.Status)
			v, _ = known.LoadOrStore(k, series{s.metrics.HTTPRequests.WithLabelValues(route, status),
				s.metrics.HTTPDuration.WithLabelValues(route, status)})
		}
		m := v.(series)
		m.requests.Inc()
		m.duration.Observe(time.Since(start).Seconds())
	})
}

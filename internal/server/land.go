package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Shutdown lands the instance in order: HTTP stops accepting and finishes
// its requests (their replies still come from running workers), then the
// workers stop fetching and finish what they run, connections close and
// NATS drains. Requests that were queued but not started stay in
// JetStream for redelivery. ctx bounds the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		defer close(s.done)
		s.stopHTTP(ctx)
		s.stopDatabases(ctx)
		s.log.Info("landing: done")
	})
	<-s.done
	return s.err
}

// stopHTTP stops accepting and waits for the requests being served.
func (s *Server) stopHTTP(ctx context.Context) {
	s.log.Info("landing: stop HTTP")
	if s.http == nil {
		return
	}
	if err := s.http.Shutdown(ctx); err != nil {
		s.err = errors.Join(s.err, fmt.Errorf("http shutdown: %w", err))
	}
}

// stopDatabases lands the Leads and everything after them (close); past
// ctx it cancels the queries still running.
func (s *Server) stopDatabases(ctx context.Context) {
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
}

// close lands what Start launched, backwards: the Leads and their
// workers, the client, NATS, then the spans.
func (s *Server) close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.stopConsole != nil {
		s.stopConsole()
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
	s.stopNATS()
	s.flushSpans()
}

// stopNATS drains the connection and stops the embedded server.
func (s *Server) stopNATS() {
	drain(s.nc)
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
}

// flushSpans exports the spans of the requests landed before it.
func (s *Server) flushSpans() {
	if s.tracing == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.tracing.Shutdown(ctx); err != nil {
		s.log.Warn("tracing: export on shutdown", "err", err)
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

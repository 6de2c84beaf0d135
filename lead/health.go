package lead

import (
	"context"
	"log/slog"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/backoff"
)

// health is the connection job: it opens the Lead's connection (after a
// failure, again after a capped backoff with jitter), makes dqm's tables
// on it, pings it every heartbeat interval (the heartbeat check),
// and drops and reopens it when a ping fails. It owns the connection
// state; the connection itself stays in conn for the landing to close.
type health struct {
	open    func(ctx context.Context) (engines.Conn, error)
	tables  tables
	conn    *connHolder
	every   time.Duration
	backoff backoff.Backoff
	state   func(string)  // the connection state, after every attempt
	checked func(ok bool) // one attempt's outcome, for heartbeat time and metrics
	log     *slog.Logger
}

func (h *health) run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		// The channel before the state: a drop between them is not missed.
		changed := h.conn.changed()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-changed:
			if h.conn.current() != 0 {
				continue // a connection was set (by us): nothing to do
			}
			// Another job found the connection dead and dropped it.
			t.Stop()
		}
		var err error
		what := "connect failed"
		if h.conn.current() == 0 {
			err = h.connect(ctx)
		} else {
			what = "heartbeat check failed; reconnecting"
			err = h.check(ctx)
		}
		if ctx.Err() != nil {
			return nil // landing: not a failure
		}
		h.checked(err == nil)
		wait := h.every
		if err != nil {
			h.state(StateError)
			wait = h.backoff.Next()
			h.log.Warn(what, "err", err, "retry_in", wait.Round(time.Millisecond))
		} else {
			h.state(StateConnected)
		}
		t.Reset(wait)
	}
}

// connect opens the connection and makes dqm's tables on it.
func (h *health) connect(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := h.open(cctx)
	if err != nil {
		return err
	}
	// Before anyone borrows it: the triggers need the tables the seed makes.
	if err := h.tables.EnsureTables(ctx, conn); err != nil {
		h.log.Error("dqm tables", "err", err)
	}
	h.backoff.Reset()
	h.conn.set(conn)
	return nil
}

// check pings the connection; a failed ping drops it.
func (h *health) check(ctx context.Context) error {
	err := h.conn.use(func(conn engines.Conn) error {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return conn.Ping(pctx)
	})
	if err != nil && ctx.Err() == nil {
		if conn := h.conn.take(); conn != nil {
			conn.Close()
		}
	}
	return err
}

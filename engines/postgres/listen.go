package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dqmhq/dqm/internal/backoff"
)

// Channel is the PostgreSQL notification channel the capture function
// notifies on each change, with {"seq": <id>, "table": "<name>"}.
const Channel = "dqm_changes"

// Listen timing; variables so tests can shorten them.
var (
	// listenIdle is how long the listener waits for a notification before
	// it pings, to find a connection that died without a word.
	listenIdle = 30 * time.Second
	// Reconnect attempts back off from minBackoff, doubling to maxBackoff
	// (internal/backoff, with jitter).
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// closeGrace bounds closing and pinging the listening connection.
	closeGrace = 5 * time.Second
	// idlePinged, if set, is called after each idle ping that succeeded,
	// so a test knows the listener idled.
	idlePinged func()
)

// Listen opens a dedicated PostgreSQL connection that LISTENs on Channel
// and returns a channel that receives a wake-up after each notification:
// time to Fetch. Wake-ups coalesce (the channel holds one and sends never
// block), so one may stand for many changes. If the connection drops,
// Listen reconnects with backoff and sends a wake-up once listening again,
// as notifications may have been missed meanwhile. The channel is closed
// once ctx ends and the connection is closed, so receiving until it closes
// waits for the listener to finish.
//
// Nothing is sent for changes recorded before Listen returns: the caller
// fetches once at start. An error means the DSN is invalid or the first
// connection failed; no listener runs then.
func Listen(ctx context.Context, dsn string) (<-chan struct{}, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx may quote the DSN, password included.
		return nil, errors.New("postgres: listen: invalid PostgreSQL DSN")
	}
	conn, err := listenConn(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: listen: %w", err)
	}
	wake := make(chan struct{}, 1)
	go listen(ctx, cfg, conn, wake)
	return wake, nil
}

// listenConn connects and starts listening.
func listenConn(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// listen runs until ctx ends, then closes conn and wake.
func listen(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, wake chan struct{}) {
	defer close(wake)
	for {
		err := wait(ctx, conn)
		if err == nil {
			notify(wake)
			continue
		}
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("trigger listener lost its connection; reconnecting", "err", err)
		if conn = reconnect(ctx, cfg); conn == nil {
			return
		}
		notify(wake)
	}
}

// wait returns nil on a notification, an error when the connection
// failed (or ctx ended). While idle it pings now and then.
func wait(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil || ctx.Err() != nil || !pgconn.Timeout(err) {
			return err
		}
		// A read timeout leaves the connection usable: check it is alive.
		pctx, cancel := context.WithTimeout(ctx, closeGrace)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
		if idlePinged != nil {
			idlePinged()
		}
	}
}

// reconnect tries until it is listening again (or ctx ends: nil).
func reconnect(ctx context.Context, cfg *pgx.ConnConfig) *pgx.Conn {
	b := backoff.Backoff{Min: minBackoff, Max: maxBackoff}
	delay := b.Next()
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := listenConn(ctx, cfg)
		if err == nil {
			slog.Info("trigger listener reconnected")
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		delay = b.Next()
		slog.Warn("trigger listener cannot reconnect", "err", err, "retry_in", delay)
	}
}

// notify sends a wake-up unless one is already pending.
func notify(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	conn.Close(ctx)
}

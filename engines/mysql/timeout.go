package mysql

import (
	"context"
	"database/sql/driver"
	"strconv"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// The driver closes its connection when the context of a running statement
// ends, which would cost dqm its persistent connection on every timeout.
// So the driver only ever sees a context dqm cancels itself, and the
// request's deadline is enforced in three layers:
//
//  1. A session statement limit on the server (MariaDB max_statement_time,
//     any statement; MySQL max_execution_time, SELECT only), so a runaway
//     statement stops even if dqm is gone. The limit is the remaining time
//     rounded up to a power of two milliseconds and is SET only when that
//     changes: with a fixed request timeout it is set once per connection,
//     it costs no statement text change (so no extra prepared statements)
//     and it never fires before the deadline.
//  2. At the deadline, KILL QUERY <id> from a short-lived second connection:
//     the statement fails with 1317 and the connection lives on.
//  3. If that does not end the statement within killGrace, dqm cancels the
//     driver's context: the driver closes the connection and the error
//     wraps engines.ErrConnLost, so the caller reconnects.

// defaultKillGrace bounds KILL QUERY plus the statement's reaction to it.
const defaultKillGrace = 5 * time.Second

// maxLimit caps the session limit (MariaDB refuses more than a year).
const maxLimit = time.Duration(1<<34) * time.Millisecond // about 199 days

// limitFor is the session statement limit for ctx: 0 (none) without a
// deadline, else the remaining time rounded up to a power of two
// milliseconds.
func limitFor(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	rem := time.Until(dl)
	b := time.Millisecond
	for b < rem && b < maxLimit {
		b <<= 1
	}
	return b
}

// limitSQL is the statement that sets limit d on the session.
func limitSQL(mariadb bool, d time.Duration) string {
	if mariadb {
		return "SET SESSION max_statement_time = " + strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	}
	return "SET SESSION max_execution_time = " + strconv.FormatInt(d.Milliseconds(), 10)
}

// watch starts watching ctx for the statements about to run on c: KILL
// QUERY at the deadline (layer 2), abort, which cancels the driver's
// context, when that fails or does not end them within killGrace (layer 3).
func (c *Conn) watch(ctx context.Context, abort context.CancelFunc) *engines.DeadlineWatch {
	return engines.WatchDeadline(ctx, c.killGrace, c.killQuery, abort)
}

// killQuery sends KILL QUERY for c's connection from a new connection.
func (c *Conn) killQuery(ctx context.Context) error {
	dc, err := c.kill.Connect(ctx)
	if err != nil {
		return err
	}
	defer dc.Close()
	_, err = dc.(driver.ExecerContext).ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(c.id, 10), nil)
	return err
}

//go:build db2

package db2

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
	"github.com/dqmhq/dqm/schemas"
)

// Engine is the DB2 engine, on database/sql with go_ibm_db.
type Engine struct {
	driver string // the database/sql driver name; tests use a fake
}

func init() { engines.Register(Name, New) }

// New returns the DB2 engine.
func New() engines.Engine { return Engine{driver: DriverName} }

// Name implements engines.Engine.
func (Engine) Name() string { return Name }

// Style implements engines.Engine.
func (Engine) Style() engines.PlaceholderStyle { return Style }

// defaultCancelGrace bounds the WLM_CANCEL_ACTIVITY round trip.
const defaultCancelGrace = 5 * time.Second

// Open implements engines.Engine; dsn is either form ParseDSN accepts.
func (e Engine) Open(ctx context.Context, dsn string, opts engines.Options) (engines.Conn, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(sql.Drivers(), e.driver) {
		return nil, &engines.DatabaseError{Code: schemas.CodeUnavailable,
			Message: "db2: the " + e.driver + " driver is not linked into this binary (see package engines/db2)"}
	}
	cs := cfg.ConnString()
	db, err := sql.Open(e.driver, cs)
	if err != nil {
		return nil, unavailable(err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, unavailable(err)
	}
	// The canceller's pool keeps nothing idle: one connection per deadline
	// that passes, closed at once.
	cancelDB, err := sql.Open(e.driver, cs)
	if err != nil {
		conn.Close()
		db.Close()
		return nil, unavailable(err)
	}
	cancelDB.SetMaxIdleConns(0)
	c := &Conn{db: db, conn: conn, cancelDB: cancelDB, cancelGrace: defaultCancelGrace}
	c.stmts = engines.NewStmtCache(opts.StmtCacheSize, func(s *sql.Stmt) { s.Close() })
	if err := conn.QueryRowContext(ctx, appHandleSQL).Scan(&c.handle); err != nil {
		c.Close()
		return nil, unavailable(err)
	}
	return c, nil
}

func unavailable(err error) error {
	e := classifyErr(err).(*engines.DatabaseError)
	e.Code = schemas.CodeUnavailable
	return e
}

// Conn is one DB2 connection: a database/sql pool of one, pinned.
type Conn struct {
	db          *sql.DB
	conn        *sql.Conn
	cancelDB    *sql.DB // second connections for WLM_CANCEL_ACTIVITY
	cancelGrace time.Duration
	handle      int64 // MON_GET_APPLICATION_HANDLE()
	stmts       *engines.StmtCache[*sql.Stmt]
	lost        error
	closed      bool
}

// Ping implements engines.Conn with a round trip (go_ibm_db has no
// driver.Pinger, so database/sql's ping would not reach the server).
func (c *Conn) Ping(ctx context.Context) error {
	if c.lost != nil {
		return c.lost
	}
	var one int
	if err := c.conn.QueryRowContext(ctx, "VALUES 1").Scan(&one); err != nil {
		return c.fail(ctx, err)
	}
	return nil
}

// Close implements engines.Conn.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.lost == nil {
		c.lost = &engines.DatabaseError{Code: schemas.CodeUnavailable, Message: "connection closed", Err: engines.ErrConnLost}
	}
	c.stmts.Clear()
	return errors.Join(c.conn.Close(), c.db.Close(), c.cancelDB.Close())
}

// Run implements engines.Conn. database/sql gets a context without the
// deadline (go_ibm_db could not act on it anyway); the deadline cancels
// the statement through WLM_CANCEL_ACTIVITY (see deadline.go).
func (c *Conn) Run(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
	if c.lost != nil {
		return nil, c.lost
	}
	if len(stmts) == 0 {
		return nil, &engines.DatabaseError{Code: schemas.CodeDatabaseError, Message: "no statements to run"}
	}
	if err := ctx.Err(); err != nil {
		return nil, engines.Timeout(err)
	}
	dctx := context.WithoutCancel(ctx)
	k := c.watch(ctx)
	res, tx, err := c.run(ctx, dctx, stmts)
	if k.Stop() && err == nil {
		// The deadline passed while the statements ran: answered timeout,
		// as the MySQL engine does, even if they then completed.
		err = context.DeadlineExceeded
	}
	if err == nil {
		return res, nil
	}
	if tx != nil {
		if rerr := tx.Rollback(); rerr != nil && !engines.IsConnLost(classifyErr(err)) {
			// A transaction that may still be open must not meet the next
			// request.
			c.markLost(rerr)
		}
	}
	return nil, c.fail(ctx, err)
}

// fail classifies err; after the deadline every failure is a timeout.
func (c *Conn) fail(ctx context.Context, err error) error {
	e := classifyErr(err)
	if engines.IsConnLost(e) {
		c.markLost(err)
	}
	if ctx.Err() == nil {
		return e
	}
	cause := []error{ctx.Err(), err}
	if c.lost != nil {
		cause = append(cause, engines.ErrConnLost)
	}
	return engines.Timeout(cause...)
}

func (c *Conn) markLost(cause error) {
	if c.closed {
		return
	}
	c.Close()
	c.lost = engines.Lost(cause)
}

// run executes stmts; a non-nil tx is open and must be rolled back on error.
func (c *Conn) run(ctx, dctx context.Context, stmts []engines.Statement) (*engines.Result, *sql.Tx, error) {
	res := &engines.Result{Affected: make([]int64, 0, len(stmts))}
	if len(stmts) == 1 {
		st, err := c.prepare(dctx, stmts[0].SQL)
		if err != nil {
			return nil, nil, err
		}
		return res, nil, execute(dctx, st, stmts[0].Bind(res), res, true)
	}
	tx, err := c.conn.BeginTx(dctx, nil)
	if err != nil {
		return nil, nil, err
	}
	rowsFrom := engines.RowsFrom(stmts)
	for i, s := range stmts {
		if err := ctx.Err(); err != nil {
			return nil, tx, err
		}
		st, err := c.prepare(dctx, s.SQL)
		if err == nil {
			err = execute(dctx, tx.StmtContext(dctx, st), s.Bind(res), res, i == rowsFrom)
		}
		if err != nil {
			return nil, tx, fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err // a failed COMMIT has rolled back
	}
	return res, nil, nil
}

func (c *Conn) prepare(dctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	st, err := c.conn.PrepareContext(dctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts.Put(query, st)
	return st, nil
}

// errNoResultSet is go_ibm_db's (untyped) answer to Query on a statement
// that produced no result set; the statement has run by then.
const errNoResultSet = "Stmt did not create a result set"

// execute runs one statement. go_ibm_db's Query fails on a statement that
// returns no rows, so the text decides (engines.ReturnsRows); a CALL that
// returns none is accepted as done.
func execute(dctx context.Context, st *sql.Stmt, s engines.Statement, res *engines.Result, last bool) error {
	if !engines.ReturnsRows(s.SQL) {
		return res.AddAffected(st.ExecContext(dctx, s.Args...))
	}
	rows, err := st.QueryContext(dctx, s.Args...)
	if err != nil {
		if err.Error() == errNoResultSet {
			res.Affected = append(res.Affected, 0)
			return nil
		}
		return err
	}
	defer rows.Close()
	if err := readRows(rows, res, last); err != nil {
		return err
	}
	res.Affected = append(res.Affected, 0) // a query changes nothing
	return nil
}

// readRows encodes the rows into res (or, unless last, only reads them).
func readRows(rows *sql.Rows, res *engines.Result, last bool) error {
	return engines.ReadSQLRows(rows, res, last, kindOf, encode)
}

// watch starts watching ctx for the statements about to run on c: at the
// deadline, WLM_CANCEL_ACTIVITY from a second connection. Without the
// authority for it the statement runs on to its end; the request is
// answered timeout all the same.
func (c *Conn) watch(ctx context.Context) *engines.DeadlineWatch {
	return engines.WatchDeadline(ctx, c.cancelGrace, c.cancelActivity, nil)
}

// cancelActivity cancels the statement c's connection is running, from a
// second connection.
func (c *Conn) cancelActivity(ctx context.Context) error {
	conn, err := c.cancelDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var uow, activity int64
	if err := conn.QueryRowContext(ctx, activitySQL, c.handle).Scan(&uow, &activity); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, cancelSQL, c.handle, uow, activity)
	return err
}

// System implements engines.Engine (system.go).
func (Engine) System() engines.System { return systemSQL{system.Base{D: dialect}} }

// Read implements engines.Reader; like Run, database/sql gets a context
// without the deadline.
func (c *Conn) Read(ctx context.Context, s engines.Statement, row func([]any) error) error {
	if c.lost != nil {
		return c.lost
	}
	dctx := context.WithoutCancel(ctx)
	st, err := c.prepare(dctx, s.SQL)
	if err != nil {
		return c.fail(ctx, err)
	}
	rows, err := st.QueryContext(dctx, s.Args...)
	if err != nil {
		return c.fail(ctx, err)
	}
	if err := engines.ReadSQLValues(rows, row); err != nil {
		return c.fail(ctx, err)
	}
	return nil
}

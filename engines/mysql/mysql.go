package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Engine is the MySQL/MariaDB engine.
type Engine struct{}

func init() { engines.Register(schemas.EngineMySQL, New) }

// New returns the MySQL/MariaDB engine.
func New() engines.Engine { return Engine{} }

// Name implements engines.Engine.
func (Engine) Name() string { return schemas.EngineMySQL }

// Style implements engines.Engine.
func (Engine) Style() engines.PlaceholderStyle { return engines.Question }

// Open implements engines.Engine; dsn is either form ParseDSN accepts.
func (Engine) Open(ctx context.Context, dsn string, opts engines.Options) (engines.Conn, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return open(ctx, cfg, opts)
}

// Conn is one MySQL/MariaDB connection, driven through the driver's own
// interfaces so that nothing but dqm decides when it closes.
type Conn struct {
	dc        driver.Conn
	kill      driver.Connector // for KILL QUERY from a second connection
	killGrace time.Duration
	id        uint64 // CONNECTION_ID()
	mariadb   bool
	base      time.Duration // the session statement limit the server set (0: none)
	limit     time.Duration // the limit now set on the session; -1: unknown
	stmts     *engines.StmtCache[*stmt]
	lost      error // set once the connection is unusable
	closed    bool

	// Reused per statement: one goroutine uses a Conn at a time.
	args   []driver.NamedValue
	dest   []driver.Value
	widths []uint32
	flags  []uint16
	kinds  []kind
}

// stmt is a cached server-side prepared statement.
type stmt struct {
	ds    driver.Stmt
	check driver.NamedValueChecker // the driver's argument conversion
	// exec is learned on the first run: the statement returns no result
	// set, so it runs with Exec, which reports the affected count.
	exec bool
}

// Ping implements engines.Conn. A ping that does not answer before ctx
// ends costs the connection (the driver closes it), as a dead one would.
func (c *Conn) Ping(ctx context.Context) error {
	if c.lost != nil {
		return c.lost
	}
	if err := c.dc.(driver.Pinger).Ping(ctx); err != nil {
		e := Classify(err)
		if ctx.Err() != nil || engines.IsConnLost(e) {
			c.markLost(err)
			return c.lost
		}
		return e
	}
	return nil
}

// Close implements engines.Conn.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.lost = lost(errors.New("connection closed"))
	c.stmts.Clear()
	return c.dc.Close()
}

// markLost closes a connection that can no longer be trusted (broken,
// aborted, or with a transaction that could not be rolled back); every
// later call returns an error wrapping engines.ErrConnLost.
func (c *Conn) markLost(cause error) {
	if c.closed {
		return
	}
	c.closed = true
	c.lost = lost(cause)
	c.stmts.Clear()
	c.dc.Close()
}

// Run implements engines.Conn. The driver never sees ctx (see timeout.go).
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
	dctx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	k := c.watch(ctx, abort)
	res, inTx, err := c.run(ctx, dctx, stmts)
	if k.Stop() && err == nil {
		// The deadline passed while the statements ran and KILL QUERY was
		// sent: what they returned is suspect (MySQL's SLEEP returns 1 when
		// killed), so the run is a timeout even though it ended without an
		// error. A write that committed just then is covered by the
		// request's idempotency record.
		err = context.DeadlineExceeded
	}
	if err == nil {
		return res, nil
	}
	gone := dctx.Err() != nil || engines.IsConnLost(Classify(err))
	if inTx && !gone {
		if rerr := c.rollback(); rerr != nil {
			// A transaction that may still be open must not meet the
			// next request.
			gone = true
			err = errors.Join(err, rerr)
		}
	}
	return nil, c.fail(ctx, gone, err)
}

// fail classifies err, taking the deadline into account: a statement that
// failed after the deadline passed was interrupted (KILL QUERY, the
// session limit, or an abort) and is a timeout.
func (c *Conn) fail(ctx context.Context, gone bool, err error) error {
	e := Classify(err)
	if gone {
		c.markLost(err)
	}
	if ctx.Err() == nil {
		if gone {
			return c.lost
		}
		return e
	}
	cause := []error{ctx.Err(), err}
	if gone {
		cause = append(cause, engines.ErrConnLost)
	}
	return engines.Timeout(cause...)
}

// run executes stmts on dctx, watching ctx between statements; inTx says a
// transaction is open and must be rolled back on error.
func (c *Conn) run(ctx, dctx context.Context, stmts []engines.Statement) (res *engines.Result, inTx bool, err error) {
	if err := c.setLimit(ctx, dctx); err != nil {
		return nil, false, err
	}
	res = &engines.Result{Affected: make([]int64, 0, len(stmts))}
	if len(stmts) == 1 {
		return res, false, c.runOne(dctx, stmts[0].Bind(res), res, true)
	}
	if err := c.exec(dctx, "START TRANSACTION"); err != nil {
		return nil, false, err
	}
	rowsFrom := engines.RowsFrom(stmts)
	for i, s := range stmts {
		if err := ctx.Err(); err != nil {
			return nil, true, err
		}
		if err := c.runOne(dctx, s.Bind(res), res, i == rowsFrom); err != nil {
			return nil, true, fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	if err := c.exec(dctx, "COMMIT"); err != nil {
		return nil, true, err
	}
	return res, false, nil
}

// rollback ends a failed transaction. It runs after the deadline watch, on
// its own bounded context: past killGrace the driver closes the connection.
func (c *Conn) rollback() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.killGrace)
	defer cancel()
	return c.exec(ctx, "ROLLBACK")
}

// setLimit sets the session statement limit for ctx's deadline when it
// differs from the one already set (timeout.go, layer 1). The server's own
// limit, if lower, stays.
func (c *Conn) setLimit(ctx, dctx context.Context) error {
	want := limitFor(ctx)
	if c.base > 0 && (want == 0 || want > c.base) {
		want = c.base
	}
	if want == c.limit {
		return nil
	}
	if err := c.exec(dctx, limitSQL(c.mariadb, want)); err != nil {
		c.limit = -1
		return err
	}
	c.limit = want
	return nil
}

// runOne runs one statement, preparing it on first use. A statement whose
// table changed since it was prepared (1615) is prepared again once.
func (c *Conn) runOne(dctx context.Context, s engines.Statement, res *engines.Result, last bool) error {
	st, err := c.prepare(dctx, s.SQL)
	if err != nil {
		return err
	}
	err = c.execute(dctx, st, s.Args, res, last)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == erNeedReprepare {
		c.stmts.Forget(s.SQL)
		if st, err = c.prepare(dctx, s.SQL); err != nil {
			return err
		}
		err = c.execute(dctx, st, s.Args, res, last)
	}
	return err
}

func (c *Conn) prepare(dctx context.Context, query string) (*stmt, error) {
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	ds, err := c.dc.(driver.ConnPrepareContext).PrepareContext(dctx, query)
	if err != nil {
		return nil, err
	}
	st := &stmt{ds: ds}
	st.check, _ = ds.(driver.NamedValueChecker)
	c.stmts.Put(query, st)
	return st, nil
}

// bind converts args with the driver's own rules (as database/sql would).
func (c *Conn) bind(st *stmt, args []any) ([]driver.NamedValue, error) {
	nv := c.args[:0]
	for i, a := range args {
		v := driver.NamedValue{Ordinal: i + 1, Value: a}
		var err error
		if st.check != nil {
			err = st.check.CheckNamedValue(&v)
		} else {
			v.Value, err = driver.DefaultParameterConverter.ConvertValue(a)
		}
		if err != nil {
			return nil, &engines.DatabaseError{Code: schemas.CodeDatabaseError,
				Message: fmt.Sprintf("argument %d: %v", i+1, err), Err: err}
		}
		nv = append(nv, v)
	}
	c.args = nv
	return nv, nil
}

// execute runs a prepared statement and adds its outcome to res. Only the
// last statement's rows are encoded; earlier ones are read and counted.
func (c *Conn) execute(dctx context.Context, st *stmt, args []any, res *engines.Result, last bool) error {
	nv, err := c.bind(st, args)
	if err != nil {
		return err
	}
	if st.exec {
		return res.AddAffected(st.ds.(driver.StmtExecContext).ExecContext(dctx, nv))
	}
	rows, err := st.ds.(driver.StmtQueryContext).QueryContext(dctx, nv)
	if err != nil {
		return err
	}
	if len(rows.Columns()) == 0 {
		// No result set: from now on run it with Exec. This once, the
		// affected count (which Query drops) comes from ROW_COUNT().
		if err := rows.Close(); err != nil {
			return err
		}
		st.exec = true
		n, err := c.rowCount(dctx)
		if err != nil {
			return err
		}
		res.Affected = append(res.Affected, n)
		return nil
	}
	err = c.readRows(rows, res, last)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	res.Affected = append(res.Affected, 0) // a query changes nothing
	return nil
}

// rowCount is the affected count of the statement just run.
func (c *Conn) rowCount(dctx context.Context) (int64, error) {
	row, err := c.queryRow(dctx, "SELECT ROW_COUNT()")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(row[0], 10, 64)
}

// exec runs a statement without arguments on the text protocol.
func (c *Conn) exec(ctx context.Context, query string) error {
	_, err := c.dc.(driver.ExecerContext).ExecContext(ctx, query, nil)
	return err
}

// queryRow runs a query without arguments on the text protocol and returns
// its first row as text (NULL as "").
func (c *Conn) queryRow(ctx context.Context, query string) ([]string, error) {
	rows, err := c.dc.(driver.QueryerContext).QueryContext(ctx, query, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: no row", query)
		}
		return nil, err
	}
	out := make([]string, len(dest))
	for i, v := range dest {
		switch v := v.(type) {
		case []byte:
			out[i] = string(v)
		case nil:
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out, rows.Close()
}

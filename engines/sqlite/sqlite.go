package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Engine is the SQLite engine.
type Engine struct{}

func init() { engines.Register(schemas.EngineSQLite, New) }

// New returns the SQLite engine.
func New() engines.Engine { return Engine{} }

// Name implements engines.Engine.
func (Engine) Name() string { return schemas.EngineSQLite }

// Style implements engines.Engine.
func (Engine) Style() engines.PlaceholderStyle { return engines.Question }

// Open implements engines.Engine.
func (Engine) Open(ctx context.Context, dsn string, opts engines.Options) (engines.Conn, error) {
	db, err := sql.Open("sqlite", driverDSN(dsn))
	if err != nil {
		return nil, classify(err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, classify(err)
	}
	c := &Conn{db: db, conn: conn}
	c.stmts = engines.NewStmtCache(opts.StmtCacheSize, func(s *sql.Stmt) { s.Close() })
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// driverDSN adds the pragmas every connection needs: WAL so readers and the
// writer do not block each other, a busy timeout so concurrent workers wait
// for a lock instead of failing at once, and foreign keys on.
func driverDSN(dsn string) string {
	if dsn == ":memory:" {
		return dsn
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	return dsn + sep + q.Encode()
}

// Conn is one SQLite connection.
type Conn struct {
	db    *sql.DB
	conn  *sql.Conn
	stmts *engines.StmtCache[*sql.Stmt]
}

// Ping implements engines.Conn.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.conn.PingContext(ctx); err != nil {
		return classify(err)
	}
	return nil
}

// Close implements engines.Conn.
func (c *Conn) Close() error {
	c.stmts.Clear()
	c.conn.Close()
	return c.db.Close()
}

// Run implements engines.Conn.
func (c *Conn) Run(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
	if len(stmts) == 1 {
		st, err := c.prepare(ctx, stmts[0].SQL)
		if err != nil {
			return nil, c.fail(ctx, err)
		}
		res := &engines.Result{}
		if err := run(ctx, st, stmts[0].SQL, stmts[0].Bind(res).Args, res, true); err != nil {
			return nil, c.fail(ctx, err)
		}
		return res, nil
	}
	// The transaction's context must not end with the request's: when it
	// does, database/sql rolls back on a goroutine of its own while the
	// statement is being interrupted, and that ROLLBACK fails unseen,
	// leaving the connection inside the transaction (the next BEGIN then
	// fails). The statements still run with ctx; the rollback below runs
	// after they have returned. The cost: BEGIN IMMEDIATE's wait for the
	// write lock is bounded by busy_timeout, not by ctx.
	tx, err := c.conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	res := &engines.Result{}
	rowsFrom := engines.RowsFrom(stmts)
	for i, s := range stmts {
		st, err := c.prepare(ctx, s.SQL)
		if err == nil {
			err = run(ctx, tx.StmtContext(ctx, st), s.SQL, s.Bind(res).Args, res, i <= rowsFrom)
		}
		if err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("statement %d: %w", i+1, c.fail(ctx, err))
		}
	}
	if ctx.Err() != nil {
		tx.Rollback()
		return nil, c.fail(ctx, ctx.Err())
	}
	if err := tx.Commit(); err != nil {
		return nil, c.fail(ctx, err)
	}
	return res, nil
}

func (c *Conn) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts.Put(query, st)
	return st, nil
}

// fail classifies err, taking the context into account: an interrupted
// statement is a timeout only because the deadline passed.
func (c *Conn) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return engines.Timeout(ctx.Err(), err)
	}
	return classify(err)
}

// run executes one statement, appending its affected count and, when it
// returns rows and keep is set, replacing res's rows with its rows (a
// Finish statement after the client's keeps them).
func run(ctx context.Context, st *sql.Stmt, query string, args []any, res *engines.Result, keep bool) error {
	if !engines.ReturnsRows(query) {
		return res.AddAffected(st.ExecContext(ctx, args...))
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := engines.ReadSQLRows(rows, res, keep, kindOf, encode); err != nil {
		return err
	}
	res.Affected = append(res.Affected, 0)
	return nil
}

// classify maps SQLite result codes to contract codes.
func classify(err error) error {
	return engines.Classify(err, func(err error) *engines.DatabaseError {
		var se *sqlite.Error
		switch {
		case errors.As(err, &se):
			return classifyCode(se.Code(), se.Error(), err)
		case errors.Is(err, sql.ErrConnDone), errors.Is(err, context.Canceled):
			return engines.Lost(err)
		}
		return nil
	})
}

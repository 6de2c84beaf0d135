package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Engine is the PostgreSQL engine.
type Engine struct{}

func init() { engines.Register(schemas.EnginePostgres, New) }

// New returns the PostgreSQL engine.
func New() engines.Engine { return Engine{} }

// Name implements engines.Engine.
func (Engine) Name() string { return schemas.EnginePostgres }

// Style implements engines.Engine: $1..$n.
func (Engine) Style() engines.PlaceholderStyle { return engines.Dollar }

// cancelGrace is how long a query may take to stop after its context ends
// and the CancelRequest is sent, before the socket deadline gives up on it
// and the connection is lost. The same bound applies to a rollback.
const cancelGrace = time.Second

// Open implements engines.Engine. dsn is a postgres:// or postgresql:// URL
// or a keyword/value string, as pgx.ParseConfig reads it (TLS settings
// included).
func (Engine) Open(ctx context.Context, dsn string, opts engines.Options) (engines.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords from its parse errors only on a best-effort
		// basis, so none of its text is passed on.
		return nil, &engines.DatabaseError{Code: schemas.CodeUnavailable, Message: "invalid PostgreSQL DSN"}
	}
	if !setsTimeZone(cfg.RuntimeParams) {
		cfg.RuntimeParams["timezone"] = "UTC"
	}
	if _, set := cfg.RuntimeParams["application_name"]; !set && opts.ApplicationName != "" {
		// PostgreSQL truncates it to 63 bytes.
		cfg.RuntimeParams["application_name"] = opts.ApplicationName
	}
	size := opts.StmtCacheSize
	if size <= 0 {
		size = engines.DefaultStmtCacheSize
	}
	cfg.StatementCacheCapacity = size
	cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	// pgx's default answer to a cancelled context is to break the socket,
	// which would cost the worker its connection on every timeout. Asking
	// the server to cancel the query keeps it.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: cancelGrace}
	}
	pc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, openError(cfg, err)
	}
	return &Conn{pg: pc}, nil
}

// setsTimeZone reports whether the DSN chose the session time zone itself,
// as a parameter or in options (-c timezone=...).
func setsTimeZone(rp map[string]string) bool {
	for k, v := range rp {
		k = strings.ToLower(k)
		if k == "timezone" || k == "options" && strings.Contains(strings.ToLower(v), "timezone") {
			return true
		}
	}
	return false
}

// openError classifies a failed connect. Whatever the cause (refused,
// timed out, authentication, unknown database), there is no connection to
// use: unavailable.
//
// The message names the server and the cause ("connect to
// 127.0.0.1:5432: connection refused", "… password authentication failed
// for user "app" (28P01)") and never the DSN: pgx's own text may quote it.
func openError(cfg *pgx.ConnConfig, err error) error {
	e := asDatabaseError(Classify(err))
	e.Code = schemas.CodeUnavailable
	if !errors.Is(e.Err, engines.ErrConnLost) {
		e.Err = errors.Join(engines.ErrConnLost, e.Err)
	}
	e.Message = "connect to " + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + ": " + connectCause(err)
	e.SQLState = ""
	return e
}

// connectCause is the part of a connect error that says why, without
// anything of the DSN.
func connectCause(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (" + pe.Code + ")"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return "no such host"
	}
	// The innermost error (TLS, protocol) says why without pgx's wrapping,
	// which names user and database.
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}

// Conn is one PostgreSQL connection.
type Conn struct {
	pg *pgx.Conn
}

// Ping implements engines.Conn.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.pg.Ping(ctx); err != nil {
		return c.classify(err)
	}
	return nil
}

// Close implements engines.Conn. The server drops the connection's
// prepared statements with it.
func (c *Conn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	return c.pg.Close(ctx)
}

// Run implements engines.Conn.
func (c *Conn) Run(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
	if len(stmts) == 0 {
		return &engines.Result{}, nil
	}
	res, err := c.run(ctx, stmts)
	if err != nil && isStalePlan(err) && ctx.Err() == nil {
		// A table changed under a cached prepared statement. The server
		// refused it before running anything (and a transaction was rolled
		// back); pgx has dropped the statement, so a second run prepares
		// it afresh.
		res, err = c.run(ctx, stmts)
	}
	if err != nil {
		return nil, c.classify(err)
	}
	return res, nil
}

func (c *Conn) run(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
	res := &engines.Result{Affected: make([]int64, 0, len(stmts))}
	if len(stmts) == 1 {
		if err := c.exec(ctx, stmts[0].Bind(res), res, true); err != nil {
			return nil, err
		}
		return res, nil
	}
	tx, err := c.pg.Begin(ctx)
	if err != nil {
		return nil, err
	}
	rowsFrom := engines.RowsFrom(stmts)
	for i, st := range stmts {
		if err := c.exec(ctx, st.Bind(res), res, i == rowsFrom); err != nil {
			rollback(tx)
			return nil, &stmtError{n: i + 1, err: err}
		}
	}
	if err := ctx.Err(); err != nil {
		// A commit with a dead context is never sent, and pgx closes a
		// connection whose commit failed; rolling back keeps it.
		rollback(tx)
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// rollback ends a failed transaction with a context of its own: the
// request's may be what failed it. If the rollback fails, pgx closes the
// connection, and the next Run reports it lost.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// exec runs one statement, appending its affected count; for the last
// statement it also fills the result's columns and rows.
func (c *Conn) exec(ctx context.Context, st engines.Statement, res *engines.Result, last bool) error {
	args := make([]any, 0, len(st.Args)+1)
	args = append(append(args, resultFormats), st.Args...)
	wrap(args[1:])
	rows, err := c.pg.Query(ctx, st.SQL, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if last {
		if err := encodeRows(rows, res); err != nil {
			return err
		}
	}
	rows.Close() // reads to the end: an error may come after the last row
	if err := rows.Err(); err != nil {
		return err
	}
	tag := rows.CommandTag()
	n := tag.RowsAffected()
	if tag.Select() {
		// A SELECT's tag counts the rows returned, not rows changed.
		n = 0
	}
	res.Affected = append(res.Affected, n)
	return nil
}

// classify is Classify plus what only the connection knows: whether pgx
// closed it on the way. A timeout that cost the connection stays a timeout
// for the client but also wraps ErrConnLost for the worker.
func (c *Conn) classify(err error) error {
	e := asDatabaseError(Classify(err))
	var se *stmtError
	if errors.As(err, &se) {
		e.Message = fmt.Sprintf("statement %d: %s", se.n, e.Message)
	}
	if c.pg.IsClosed() && !errors.Is(e.Err, engines.ErrConnLost) {
		if e.Code == schemas.CodeDatabaseError {
			e.Code = schemas.CodeUnavailable
		}
		e.Err = errors.Join(engines.ErrConnLost, e.Err)
	}
	return e
}

// stmtError says which statement of a transaction failed.
type stmtError struct {
	n   int
	err error
}

func (e *stmtError) Error() string { return fmt.Sprintf("statement %d: %v", e.n, e.err) }
func (e *stmtError) Unwrap() error { return e.err }

func asDatabaseError(err error) *engines.DatabaseError {
	var de *engines.DatabaseError
	if errors.As(err, &de) {
		return de
	}
	return &engines.DatabaseError{Code: schemas.CodeDatabaseError, Message: err.Error(), Err: err}
}

package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/schemas"
)

// describeTimeout bounds one description: an engine that describes by a
// zero-row run (MySQL) stops a statement it must compute first there.
const describeTimeout = 2 * time.Second

// describeTTL is how long a description is kept: a table altered under an
// unchanged statement is seen again within it.
const describeTTL = 5 * time.Minute

// describer describes catalog entries' rows for the per-database OpenAPI
// (ingress's rowDescriber) on a short-lived connection of its own, opened
// when a description is missing: never a worker's. Descriptions are kept
// by database and statement text, so a changed entry is described anew.
type describer struct {
	s  *Server
	mu sync.Mutex // one description at a time: at most one extra connection
	// cache: db → statement → description.
	cache map[string]map[string]description
}

type description struct {
	cols []engines.ColumnType
	err  error
	at   time.Time
}

// errNoDescribe says an engine cannot describe statements.
var errNoDescribe = errors.New("the engine cannot describe a statement without running it")

// DescribeRows implements ingress's rowDescriber: the columns of the
// statement whose rows a run returns.
func (s *Server) DescribeRows(ctx context.Context, db string, q *catalog.Query) ([]engines.ColumnType, error) {
	return s.describe.rows(ctx, db, q)
}

func (d *describer) rows(ctx context.Context, db string, q *catalog.Query) ([]engines.ColumnType, error) {
	if len(q.Statements) == 0 {
		return nil, errNoDescribe
	}
	st := q.Statements[len(q.Statements)-1]
	d.mu.Lock()
	defer d.mu.Unlock()
	if got, ok := d.cache[db][st.SQL]; ok && time.Since(got.at) < describeTTL {
		return got.cols, got.err
	}
	cols, err := d.run(ctx, db, st.SQL, len(st.Args))
	if err != nil && ctx.Err() != nil {
		return nil, err // the caller's deadline, not the statement: not kept
	}
	if d.cache == nil {
		d.cache = map[string]map[string]description{}
	}
	if d.cache[db] == nil {
		d.cache[db] = map[string]description{}
	}
	d.cache[db][st.SQL] = description{cols: cols, err: err, at: time.Now()}
	return cols, err
}

// run describes one statement on a new connection. Its errors are the
// client's to read: the engine's message (a database error names the
// statement's problem), or a fixed one when the database is unreachable.
func (d *describer) run(ctx context.Context, db, sql string, nargs int) ([]engines.ColumnType, error) {
	cfg := d.s.cfg.Databases[db]
	if cfg == nil {
		return nil, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection")
	}
	engine, err := engineFor(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	conn, err := engine.Open(ctx, cfg.DSN.Reveal(), engines.Options{StmtCacheSize: 1, ApplicationName: "dqm " + d.s.instance + " describe"})
	if err != nil {
		d.s.log.Warn("describe: connect", "db", db, "err", err)
		return nil, errors.New("the database could not be reached to describe it")
	}
	defer conn.Close()
	de, ok := conn.(engines.Describer)
	if !ok {
		return nil, errNoDescribe
	}
	cols, err := de.Describe(ctx, sql, nargs)
	if err != nil {
		d.s.log.Info("describe", "db", db, "err", err)
		return nil, err
	}
	return cols, nil
}

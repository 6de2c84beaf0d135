package sqlite

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
	"github.com/dqmhq/dqm/schemas"
)

// systemSQL is dqm's own SQL on SQLite: the shared statements of
// engines/internal/system in this dialect; triggers of the main database
// only, each install one transaction.
type systemSQL struct{ system.Base }

// The DDL of dqm's own tables and of change capture on SQLite.
var (
	//go:embed ddl/tables.sql
	tablesDDL string
	//go:embed ddl/triggers.sql
	triggersDDL string
	//go:embed ddl/demo.sql
	demoSeed string
)

var dialect = func() *system.Dialect {
	d := system.NewDialect(schemas.EngineSQLite, engines.Question, tablesDDL, triggersDDL)
	d.Cutoff = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
	d.RequestsCutoff = "datetime('now', ?)" // dqm_requests.created_at is CURRENT_TIMESTAMP's text
	d.Age = func(s float64) any { return fmt.Sprintf("-%.3f seconds", s) }
	d.SchemaTables = false
	d.NoTable = func(e *engines.DatabaseError) bool {
		// SQLite has no finer code than SQLITE_ERROR for it: its message is
		// the only sign.
		return strings.Contains(e.Message, "no such table")
	}
	return d
}()

// System implements engines.Engine.
func (Engine) System() engines.System { return systemSQL{system.Base{D: dialect}} }

var _ engines.System = systemSQL{}

// InstallTriggers implements engines.Changes. The triggers are dropped and
// created again in one transaction, so new columns are picked up and no
// change goes unrecorded meanwhile.
func (systemSQL) InstallTriggers(ctx context.Context, conn engines.Conn, _ string, tables []string) error {
	d := dialect
	ts, err := d.Tables(tables)
	if err != nil {
		return fmt.Errorf("triggers: install on sqlite: %w", err)
	}
	stmts := []engines.Statement{{SQL: d.Render("events")}, {SQL: d.Render("index")}}
	for _, t := range ts {
		cols, err := system.Columns(ctx, conn, t, "SELECT name, type FROM pragma_table_info(?)", t.Base)
		if err != nil {
			return fmt.Errorf("triggers: install on sqlite: %w", err)
		}
		for _, op := range system.Ops {
			tok := d.TableTokens(t, op.Suffix, cols, "")
			stmts = append(stmts,
				engines.Statement{SQL: d.Render("drop", tok...)},
				engines.Statement{SQL: d.Render(op.Section, tok...)})
		}
	}
	if _, err := conn.Run(ctx, stmts); err != nil {
		return fmt.Errorf("triggers: install on sqlite: %w", err)
	}
	return nil
}

// PrepareDSN creates the directory of a file database, so a fresh clone's
// demo works.
func (Engine) PrepareDSN(dsn string) error {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return nil
	}
	return os.MkdirAll(filepath.Dir(path), 0o755)
}

// DemoSeed is the script that fills the demo database of `make run`.
func (Engine) DemoSeed() string { return demoSeed }

// Read implements engines.Reader.
func (c *Conn) Read(ctx context.Context, st engines.Statement, row func([]any) error) error {
	ps, err := c.prepare(ctx, st.SQL)
	if err != nil {
		return c.fail(ctx, err)
	}
	rows, err := ps.QueryContext(ctx, st.Args...)
	if err != nil {
		return c.fail(ctx, err)
	}
	if err := engines.ReadSQLValues(rows, row); err != nil {
		return c.fail(ctx, err)
	}
	return nil
}

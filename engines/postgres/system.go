package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
	"github.com/dqmhq/dqm/schemas"
)

// systemSQL is dqm's own SQL on PostgreSQL: the shared statements of
// engines/internal/system in this dialect, triggers that call one capture
// function, and LISTEN as the wake-up (listen.go).
type systemSQL struct{ system.Base }

// The DDL of dqm's own tables and of change capture on PostgreSQL.
var (
	//go:embed ddl/tables.sql
	tablesDDL string
	//go:embed ddl/triggers.sql
	triggersDDL string
)

var dialect = func() *system.Dialect {
	d := system.NewDialect(schemas.EnginePostgres, engines.Dollar, tablesDDL, triggersDDL)
	d.Pending, d.Sent, d.Done = "NOT delivered", "delivered", "TRUE"
	d.Cutoff = "now() - $1::float8 * interval '1 second'"
	d.Age = func(s float64) any { return s }
	d.Data = "data::text"
	d.TriggerInSchema = false                                                        // a trigger belongs to its table
	d.NoTable = func(e *engines.DatabaseError) bool { return e.SQLState == "42P01" } // undefined_table
	return d
}()

// System implements engines.Engine.
func (Engine) System() engines.System { return systemSQL{system.Base{D: dialect}} }

var _ engines.System = systemSQL{}

// InstallTriggers implements engines.Changes, in one transaction.
func (systemSQL) InstallTriggers(ctx context.Context, conn engines.Conn, _ string, tables []string) error {
	if err := install(ctx, conn, tables); err != nil {
		return fmt.Errorf("triggers: install on postgres: %w", err)
	}
	return nil
}

func install(ctx context.Context, conn engines.Conn, tables []string) error {
	d := dialect
	ts, err := d.Tables(tables)
	if err != nil {
		return err
	}
	// The function's search_path is pinned, so it names trigger_events
	// with the schema it is created in.
	schema, err := system.Scalar(ctx, conn, "SELECT current_schema()")
	if err != nil {
		return err
	}
	if schema == "" {
		return errors.New("no schema to create trigger_events in: search_path names none that exists")
	}
	events := d.Quote(schema) + ".trigger_events"
	capture := d.Quote(schema) + ".dqm_capture"
	var stmts []engines.Statement
	for _, s := range []string{"events", "index", "function"} {
		stmts = append(stmts, engines.Statement{SQL: d.Render(s, "{{events}}", events, "{{capture}}", capture)})
	}
	// DROP and CREATE in one transaction replace a trigger atomically on
	// every version (CREATE OR REPLACE TRIGGER needs PostgreSQL 14).
	for _, t := range ts {
		for _, op := range system.Ops {
			tok := []string{"{{trigger}}", d.Trigger(t, op.Suffix), "{{table}}", d.Ref(t),
				"{{capture}}", capture, "{{name}}", system.Literal(t.Name)}
			stmts = append(stmts,
				engines.Statement{SQL: d.Render("drop", tok...)},
				engines.Statement{SQL: d.Render(op.Section, tok...)})
		}
	}
	_, err = conn.Run(ctx, stmts)
	return err
}

// Wake implements engines.Changes with LISTEN (listen.go).
func (systemSQL) Wake(ctx context.Context, dsn string) (<-chan struct{}, error) {
	return Listen(ctx, dsn)
}

// Read implements engines.Reader.
func (c *Conn) Read(ctx context.Context, st engines.Statement, row func([]any) error) error {
	args := append([]any(nil), st.Args...)
	wrap(args)
	rows, err := c.pg.Query(ctx, st.SQL, args...)
	if err != nil {
		return c.classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return c.classify(err)
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c.classify(err)
	}
	return nil
}

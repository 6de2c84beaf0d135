package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dqmhq/dqm/engines"
)

// Option configures Install and Remove.
type Option func(*options)

type options struct {
	dsn string
}

// WithDSN gives the database's DSN, in the engine's form. MySQL runs
// CREATE TRIGGER and DROP TRIGGER only outside the prepared-statement
// protocol (error 1295), while engines.Conn prepares everything it runs:
// with the DSN, Install and Remove run the trigger DDL on a short-lived
// connection of their own, on the text protocol. Without it they go
// through conn, which MariaDB 10.6+ accepts and MySQL refuses. Other
// engines ignore it.
func WithDSN(dsn string) Option { return func(o *options) { o.dsn = dsn } }

// Install makes changes of tables recorded: it creates trigger_events (and
// on PostgreSQL the capture function) if missing, then gives each table
// AFTER INSERT, UPDATE and DELETE row triggers named dqm_<table>_ins,
// _upd and _del. Run again, it brings the triggers up to date with the
// tables' columns and changes nothing else; on PostgreSQL and SQLite it
// runs as one transaction. engine is the config's engine name; tables are
// names or schema.names, as configured.
func Install(ctx context.Context, conn engines.Conn, engine string, tables []string, opts ...Option) error {
	d, ts, err := prepare(engine, tables)
	if err != nil {
		return err
	}
	switch engine {
	case Postgres:
		err = installPostgres(ctx, conn, d, ts)
	case MySQL:
		err = withDDL(ctx, conn, opts, func(ddl ddlFunc) error { return installMySQL(ctx, conn, ddl, d, ts) })
	case SQLite:
		err = installSQLite(ctx, conn, d, ts)
	case DB2:
		err = installDB2(ctx, conn, d, ts)
	}
	if err != nil {
		return fmt.Errorf("triggers: install on %s: %w", engine, err)
	}
	return nil
}

// Remove drops the triggers Install gave tables. trigger_events and its
// pending events stay, for a later Install to carry on from.
func Remove(ctx context.Context, conn engines.Conn, engine string, tables []string, opts ...Option) error {
	d, ts, err := prepare(engine, tables)
	if err != nil {
		return err
	}
	var drops []engines.Statement
	for _, t := range ts {
		for _, op := range ops {
			drops = append(drops, engines.Statement{SQL: d.render("drop",
				"{{trigger}}", d.trigger(t, op.suffix), "{{table}}", d.ref(t))})
		}
	}
	switch engine {
	case Postgres, SQLite:
		if len(drops) > 0 {
			_, err = conn.Run(ctx, drops)
		}
	case MySQL:
		err = withDDL(ctx, conn, opts, func(ddl ddlFunc) error {
			for _, s := range drops {
				if err := ddl(ctx, s.SQL); err != nil {
					return err
				}
			}
			return nil
		})
	case DB2:
		for _, s := range drops {
			if err = ignore(run(ctx, conn, s.SQL), db2Undefined); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("triggers: remove on %s: %w", engine, err)
	}
	return nil
}

func prepare(engine string, tables []string) (*dialect, []table, error) {
	d, err := dialectFor(engine)
	if err != nil {
		return nil, nil, err
	}
	ts, err := d.tables(tables)
	if err != nil {
		return nil, nil, err
	}
	return d, ts, nil
}

func installPostgres(ctx context.Context, conn engines.Conn, d *dialect, ts []table) error {
	// The function's search_path is pinned, so it names trigger_events
	// with the schema it is created in.
	schema, err := scalar(ctx, conn, "SELECT current_schema() AS v")
	if err != nil {
		return err
	}
	if schema == "" {
		return errors.New("no schema to create trigger_events in: search_path names none that exists")
	}
	events := d.quote(schema) + ".trigger_events"
	capture := d.quote(schema) + ".dqm_capture"
	var stmts []engines.Statement
	for _, s := range []string{"events", "index", "function"} {
		stmts = append(stmts, engines.Statement{SQL: d.render(s, "{{events}}", events, "{{capture}}", capture)})
	}
	// DROP and CREATE in one transaction replace a trigger atomically on
	// every version (CREATE OR REPLACE TRIGGER needs PostgreSQL 14).
	for _, t := range ts {
		for _, op := range ops {
			tok := []string{"{{trigger}}", d.trigger(t, op.suffix), "{{table}}", d.ref(t),
				"{{capture}}", capture, "{{name}}", literal(t.name)}
			stmts = append(stmts,
				engines.Statement{SQL: d.render("drop", tok...)},
				engines.Statement{SQL: d.render(op.section, tok...)})
		}
	}
	_, err = conn.Run(ctx, stmts)
	return err
}

func installSQLite(ctx context.Context, conn engines.Conn, d *dialect, ts []table) error {
	stmts := []engines.Statement{{SQL: d.render("events")}, {SQL: d.render("index")}}
	for _, t := range ts {
		cols, err := columns(ctx, conn, t, "SELECT name, type FROM pragma_table_info(?)", t.base)
		if err != nil {
			return err
		}
		// Dropped and created again in the same transaction, so that new
		// columns are picked up and no change goes unrecorded meanwhile.
		for _, op := range ops {
			tok := d.tableTokens(t, op.suffix, cols, "")
			stmts = append(stmts,
				engines.Statement{SQL: d.render("drop", tok...)},
				engines.Statement{SQL: d.render(op.section, tok...)})
		}
	}
	_, err := conn.Run(ctx, stmts)
	return err
}

func installMySQL(ctx context.Context, conn engines.Conn, ddl ddlFunc, d *dialect, ts []table) error {
	db, err := scalar(ctx, conn, "SELECT DATABASE() AS v")
	if err != nil {
		return err
	}
	if db == "" {
		return errors.New("the DSN names no database to create trigger_events in")
	}
	// Everything is qualified with its database: a trigger's body runs in
	// the trigger's database, and the DDL connection's default one does
	// not matter.
	events := d.quote(db) + "." + d.quote("trigger_events")
	if err := run(ctx, conn, d.render("events", "{{events}}", events)); err != nil {
		return err
	}
	for _, t := range ts {
		if t.schema == "" {
			t.schema = db
		}
		cols, err := columns(ctx, conn, t, `SELECT column_name AS name, data_type AS type
			FROM information_schema.columns WHERE table_schema = ? AND table_name = ?
			ORDER BY ordinal_position`, t.schema, t.base)
		if err != nil {
			return err
		}
		for _, c := range cols {
			if strings.Contains(c.Name, `\`) {
				return fmt.Errorf("table %s: column %q: a backslash in a column name is not supported", t.name, c.Name)
			}
		}
		have, err := mysqlTriggers(ctx, conn, t)
		if err != nil {
			return err
		}
		// MySQL DDL commits as it goes: between a DROP and the CREATE,
		// changes would go unrecorded. A trigger that is already as
		// wanted is left alone, so a restart drops nothing.
		for _, op := range ops {
			tok := d.tableTokens(t, op.suffix, cols, events)
			create := d.render(op.section, tok...)
			_, body, _ := strings.Cut(create, "FOR EACH ROW")
			if got, ok := have[triggerName(t.base, op.suffix)]; ok && strings.TrimSpace(got) == strings.TrimSpace(body) {
				continue
			}
			if err := ddl(ctx, d.render("drop", tok...)); err != nil {
				return err
			}
			if err := ddl(ctx, create); err != nil {
				return err
			}
		}
	}
	return nil
}

// mysqlTriggers returns the bodies of the triggers on t by name.
func mysqlTriggers(ctx context.Context, conn engines.Conn, t table) (map[string]string, error) {
	res, err := conn.Run(ctx, []engines.Statement{{SQL: `SELECT trigger_name AS name, action_statement AS body
		FROM information_schema.triggers WHERE trigger_schema = ? AND event_object_table = ?`,
		Args: []any{t.schema, t.base}}})
	if err != nil {
		return nil, fmt.Errorf("table %s: triggers: %w", t.name, err)
	}
	var rows []struct{ Name, Body string }
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		return nil, fmt.Errorf("table %s: triggers: %w", t.name, err)
	}
	have := make(map[string]string, len(rows))
	for _, r := range rows {
		have[r.Name] = r.Body
	}
	return have, nil
}

func installDB2(ctx context.Context, conn engines.Conn, d *dialect, ts []table) error {
	events := d.name("trigger_events")
	for _, s := range []string{"events", "index"} {
		if err := ignore(run(ctx, conn, d.render(s, "{{events}}", events)), db2Exists); err != nil {
			return err
		}
	}
	for _, t := range ts {
		q := `SELECT colname AS "name", typename AS "type" FROM syscat.columns
			WHERE tabschema = CURRENT SCHEMA AND tabname = ? ORDER BY colno`
		args := []any{d.fold(t.base)}
		if t.schema != "" {
			q = strings.Replace(q, "CURRENT SCHEMA", "?", 1)
			args = []any{d.fold(t.schema), d.fold(t.base)}
		}
		cols, err := columns(ctx, conn, t, q, args...)
		if err != nil {
			return err
		}
		for _, op := range ops {
			if err := run(ctx, conn, d.render(op.section, d.tableTokens(t, op.suffix, cols, events)...)); err != nil {
				return err
			}
		}
	}
	return nil
}

// tableTokens are the tokens of t's trigger for one operation.
func (d *dialect) tableTokens(t table, suffix string, cols []column, events string) []string {
	return []string{
		"{{trigger}}", d.trigger(t, suffix), "{{table}}", d.ref(t), "{{name}}", literal(t.name),
		"{{events}}", events, "{{new}}", d.row(cols, d.newRow), "{{old}}", d.row(cols, d.oldRow),
	}
}

// columns reads a table's columns with q, which selects name and type.
func columns(ctx context.Context, conn engines.Conn, t table, q string, args ...any) ([]column, error) {
	res, err := conn.Run(ctx, []engines.Statement{{SQL: q, Args: args}})
	if err != nil {
		return nil, fmt.Errorf("table %s: columns: %w", t.name, err)
	}
	var cols []column
	if err := json.Unmarshal(res.Rows, &cols); err != nil {
		return nil, fmt.Errorf("table %s: columns: %w", t.name, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: not found", t.name)
	}
	return cols, nil
}

// scalar runs a query of one text column v and returns its first value
// ("" for NULL).
func scalar(ctx context.Context, conn engines.Conn, q string) (string, error) {
	res, err := conn.Run(ctx, []engines.Statement{{SQL: q}})
	if err != nil {
		return "", err
	}
	var rows []struct{ V *string }
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		return "", fmt.Errorf("%s: %w", q, err)
	}
	if len(rows) == 0 || rows[0].V == nil {
		return "", nil
	}
	return *rows[0].V, nil
}

func run(ctx context.Context, conn engines.Conn, q string) error {
	_, err := conn.Run(ctx, []engines.Statement{{SQL: q}})
	return err
}

// DB2 SQLSTATEs that make its DDL idempotent.
const (
	db2Exists    = "42710" // the object already exists
	db2Undefined = "42704" // the object does not exist
)

// ignore drops err when the database reported state.
func ignore(err error, state string) error {
	var de *engines.DatabaseError
	if errors.As(err, &de) && de.SQLState == state {
		return nil
	}
	return err
}

package mysql

import (
	"context"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
	"github.com/dqmhq/dqm/schemas"
)

// systemSQL is dqm's own SQL on MySQL/MariaDB: the shared statements of
// engines/internal/system in this dialect, and trigger DDL on the text
// protocol (triggerddl.go), changed only where a trigger differs from the
// wanted one, as MySQL DDL commits as it goes.
type systemSQL struct{ system.Base }

// The DDL of dqm's own tables and of change capture on MySQL/MariaDB.
var (
	//go:embed ddl/tables.sql
	tablesDDL string
	//go:embed ddl/triggers.sql
	triggersDDL string
)

var dialect = func() *system.Dialect {
	d := system.NewDialect(schemas.EngineMySQL, engines.Question, tablesDDL, triggersDDL)
	// TEXT holds 64 KiB, and an outcome holds a write's returned rows; its
	// own character set, as an older dqm_requests has the server's default.
	d.Text = "MEDIUMTEXT CHARACTER SET utf8mb4"
	d.Quote = system.Backquote
	d.Cutoff = "NOW(6) - INTERVAL ? MICROSECOND"
	d.Age = func(s float64) any { return int64(s * 1e6) }
	d.NoTable = func(e *engines.DatabaseError) bool { return e.SQLState == "42S02" } // ER_NO_SUCH_TABLE
	return d
}()

// System implements engines.Engine.
func (Engine) System() engines.System { return systemSQL{system.Base{D: dialect}} }

var _ engines.System = systemSQL{}

// InstallTriggers implements engines.Changes.
func (systemSQL) InstallTriggers(ctx context.Context, conn engines.Conn, dsn string, tables []string) error {
	ts, err := dialect.Tables(tables)
	if err == nil {
		err = withDDL(ctx, conn, dsn, func(ddl ddlFunc) error { return install(ctx, conn, ddl, ts) })
	}
	if err != nil {
		return fmt.Errorf("triggers: install on mysql: %w", err)
	}
	return nil
}

// RemoveTriggers implements engines.Changes.
func (systemSQL) RemoveTriggers(ctx context.Context, conn engines.Conn, dsn string, tables []string) error {
	drops, err := dialect.Drops(tables)
	if err == nil {
		err = withDDL(ctx, conn, dsn, func(ddl ddlFunc) error {
			for _, s := range drops {
				if err := ddl(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("triggers: remove on mysql: %w", err)
	}
	return nil
}

func install(ctx context.Context, conn engines.Conn, ddl ddlFunc, ts []system.Table) error {
	d := dialect
	db, err := system.Scalar(ctx, conn, "SELECT DATABASE()")
	if err != nil {
		return err
	}
	if db == "" {
		return errors.New("the DSN names no database to create trigger_events in")
	}
	// Everything is qualified with its database: a trigger's body runs in
	// the trigger's database, and the DDL connection's default one does
	// not matter.
	events := d.Quote(db) + "." + d.Quote("trigger_events")
	if err := system.Exec(ctx, conn, d.Render("events", "{{events}}", events)); err != nil {
		return err
	}
	for _, t := range ts {
		if t.Schema == "" {
			t.Schema = db
		}
		cols, err := system.Columns(ctx, conn, t, `SELECT column_name, data_type
			FROM information_schema.columns WHERE table_schema = ? AND table_name = ?
			ORDER BY ordinal_position`, t.Schema, t.Base)
		if err != nil {
			return err
		}
		for _, c := range cols {
			if strings.Contains(c.Name, `\`) {
				return fmt.Errorf("table %s: column %q: a backslash in a column name is not supported", t.Name, c.Name)
			}
		}
		have, err := triggers(ctx, conn, t)
		if err != nil {
			return err
		}
		// Between a DROP and the CREATE, changes would go unrecorded: a
		// trigger that is already as wanted is left alone, so a restart
		// drops nothing.
		for _, op := range system.Ops {
			tok := d.TableTokens(t, op.Suffix, cols, events)
			create := d.Render(op.Section, tok...)
			_, body, _ := strings.Cut(create, "FOR EACH ROW")
			if got, ok := have[system.TriggerName(t.Base, op.Suffix)]; ok && strings.TrimSpace(got) == strings.TrimSpace(body) {
				continue
			}
			if err := ddl(ctx, d.Render("drop", tok...)); err != nil {
				return err
			}
			if err := ddl(ctx, create); err != nil {
				return err
			}
		}
	}
	return nil
}

// triggers returns the bodies of the triggers on t by name.
func triggers(ctx context.Context, conn engines.Conn, t system.Table) (map[string]string, error) {
	have := map[string]string{}
	err := system.Read(ctx, conn, engines.Statement{SQL: `SELECT trigger_name, action_statement
		FROM information_schema.triggers WHERE trigger_schema = ? AND event_object_table = ?`,
		Args: []any{t.Schema, t.Base}}, func(v []any) error {
		have[system.Text(v[0])] = system.Text(v[1])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: triggers: %w", t.Name, err)
	}
	return have, nil
}

// Read implements engines.Reader on the prepared-statement protocol. Like
// Run, it keeps ctx from the driver, which would close the connection on
// cancel; dqm's own reads are short.
func (c *Conn) Read(ctx context.Context, s engines.Statement, row func([]any) error) error {
	if c.lost != nil {
		return c.lost
	}
	dctx := context.WithoutCancel(ctx)
	err := c.read(dctx, s, row)
	if err != nil {
		var de *engines.DatabaseError
		if errors.As(err, &de) {
			return err
		}
		return c.fail(ctx, engines.IsConnLost(Classify(err)), err)
	}
	return nil
}

func (c *Conn) read(dctx context.Context, s engines.Statement, row func([]any) error) error {
	st, err := c.prepare(dctx, s.SQL)
	if err != nil {
		return err
	}
	nv, err := c.bind(st, s.Args)
	if err != nil {
		return err
	}
	rows, err := st.ds.(driver.StmtQueryContext).QueryContext(dctx, nv)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	vals := make([]any, len(dest))
	for {
		if err := rows.Next(dest); err != nil {
			if err == io.EOF {
				return rows.Close()
			}
			return err
		}
		for i, v := range dest {
			vals[i] = v
		}
		if err := row(vals); err != nil {
			return &engines.DatabaseError{Code: schemas.CodeDatabaseError, Message: err.Error(), Err: err}
		}
	}
}

package db2

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
	"github.com/dqmhq/dqm/schemas"
)

// SQLSTATEs that make DB2's DDL idempotent (it has no IF NOT EXISTS).
const (
	stateExists    = "42710" // the object already exists
	stateUndefined = "42704" // the object does not exist
)

// systemSQL is dqm's own SQL on DB2: the shared statements of
// engines/internal/system in this dialect (unquoted names fold to upper
// case, JSON_OBJECT's KEY/VALUE, FETCH FIRST), DDL made idempotent by its
// SQLSTATEs. Plain Go: it is built and tested without the driver.
type systemSQL struct{ system.Base }

// The DDL of dqm's own tables and of change capture on DB2.
var (
	//go:embed ddl/tables.sql
	tablesDDL string
	//go:embed ddl/triggers.sql
	triggersDDL string
)

var dialect = func() *system.Dialect {
	d := system.NewDialect(schemas.EngineDB2, Style, tablesDDL, triggersDDL)
	d.NewRow, d.OldRow = "N", "O"
	d.Fold = strings.ToUpper
	d.Pair = func(k, v string) string { return "KEY " + k + " VALUE " + v }
	d.Cutoff = "CURRENT TIMESTAMP - CURRENT TIMEZONE - CAST(? AS BIGINT) MICROSECONDS"
	d.RequestsCutoff = "CURRENT TIMESTAMP - CAST(? AS BIGINT) MICROSECONDS" // dqm_requests keeps local time
	d.Age = func(s float64) any { return int64(s * 1e6) }
	d.Limit = func(n int) string { return " FETCH FIRST " + strconv.Itoa(n) + " ROWS ONLY" }
	d.Exists = stateExists
	d.Text = "CLOB"
	d.LowerKeys = true
	d.NoTable = func(e *engines.DatabaseError) bool { return e.SQLState == "42704" } // undefined name
	return d
}()

var _ engines.System = systemSQL{}

// InstallTriggers implements engines.Changes; CREATE OR REPLACE TRIGGER
// replaces each trigger atomically.
func (systemSQL) InstallTriggers(ctx context.Context, conn engines.Conn, _ string, tables []string) error {
	if err := install(ctx, conn, tables); err != nil {
		return fmt.Errorf("triggers: install on db2: %w", err)
	}
	return nil
}

func install(ctx context.Context, conn engines.Conn, tables []string) error {
	d := dialect
	ts, err := d.Tables(tables)
	if err != nil {
		return err
	}
	events := d.Name("trigger_events")
	for _, s := range []string{"events", "index"} {
		if err := system.Ignore(system.Exec(ctx, conn, d.Render(s, "{{events}}", events)), stateExists); err != nil {
			return err
		}
	}
	for _, t := range ts {
		q := `SELECT colname, typename FROM syscat.columns
			WHERE tabschema = CURRENT SCHEMA AND tabname = ? ORDER BY colno`
		args := []any{d.Fold(t.Base)}
		if t.Schema != "" {
			q = strings.Replace(q, "CURRENT SCHEMA", "?", 1)
			args = []any{d.Fold(t.Schema), d.Fold(t.Base)}
		}
		cols, err := system.Columns(ctx, conn, t, q, args...)
		if err != nil {
			return err
		}
		for _, op := range system.Ops {
			if err := system.Exec(ctx, conn, d.Render(op.Section, d.TableTokens(t, op.Suffix, cols, events)...)); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveTriggers implements engines.Changes, one drop at a time: a trigger
// that is not there (42704) is already removed.
func (systemSQL) RemoveTriggers(ctx context.Context, conn engines.Conn, _ string, tables []string) error {
	drops, err := dialect.Drops(tables)
	for _, s := range drops {
		if err = system.Ignore(system.Exec(ctx, conn, s), stateUndefined); err != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("triggers: remove on db2: %w", err)
	}
	return nil
}

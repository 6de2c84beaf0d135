package system

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/schemas"
)

// Base implements the engines.System methods whose SQL differs only by
// Dialect; an engine embeds it and adds InstallTriggers (and overrides
// what else is its own).
type Base struct{ D *Dialect }

// Setup implements engines.Tables.
func (b Base) Setup(ctx context.Context, conn engines.Conn, catalogTable, seed string) error {
	run := func(script string) error {
		tpl, err := params.Parse(script)
		if err != nil {
			return fmt.Errorf("dqm DDL: %w", err)
		}
		for _, s := range tpl.Statements(params.Style(b.D.Style)) {
			if err := Ignore(Exec(ctx, conn, s.SQL), b.D.Exists); err != nil {
				return fmt.Errorf("dqm DDL: %w", err)
			}
		}
		return nil
	}
	if err := run(strings.ReplaceAll(b.D.SetupDDL, "{{queries}}", catalogTable)); err != nil {
		return err
	}
	if err := b.migrate(ctx, conn, catalogTable); err != nil {
		return err
	}
	if strings.TrimSpace(seed) == "" {
		return nil
	}
	return run(seed)
}

// migrate adds the columns that tables made by an older dqm lack:
// dqm_requests' body_hash and outcome, the catalog table's is_direct and
// param_types.
func (b Base) migrate(ctx context.Context, conn engines.Conn, catalogTable string) error {
	for _, c := range []struct {
		table string
		col   Column
	}{
		{"dqm_requests", Column{Name: "body_hash", Type: "VARCHAR(64)"}},
		{"dqm_requests", Column{Name: "outcome", Type: b.D.Text}},
		{catalogTable, Column{Name: "is_direct", Type: "BOOLEAN NOT NULL DEFAULT " + b.false()}},
		{catalogTable, Column{Name: "param_types", Type: b.D.Text}},
	} {
		if b.hasColumn(ctx, conn, c.table, c.col.Name) {
			continue
		}
		if err := Exec(ctx, conn, "ALTER TABLE "+c.table+" ADD COLUMN "+c.col.Name+" "+c.col.Type); err != nil {
			return fmt.Errorf("dqm DDL: %s: add column %s: %w", c.table, c.col.Name, err)
		}
	}
	return nil
}

// hasColumn probes a column with a SELECT of it (the same on every
// engine, no catalog views); a failed probe means it is missing. table
// is an identifier the config has checked, column one of dqm's.
func (b Base) hasColumn(ctx context.Context, conn engines.Conn, table, column string) bool {
	probe := engines.Statement{SQL: "SELECT " + column + " FROM " + table + " WHERE 1 = 0"}
	return Read(ctx, conn, probe, func([]any) error { return nil }) == nil
}

// false is the BOOLEAN false literal of a column default, as in the DDL
// files.
func (b Base) false() string {
	if b.D.Engine == schemas.EngineSQLite {
		return "0"
	}
	return "FALSE"
}

// catalogColumns is the select list of a catalog table, in CatalogRow
// order; optionalColumns follow it, each read as its default (false, NULL)
// from a table made before the column existed that dqm does not manage
// (catalog.manage_tables off).
const catalogColumns = `ref, name, description, sql_text, sql_postgres, sql_mysql, sql_sqlite, sql_db2,
 queue, is_public, timeout_ms, cache_ttl_s, tables_list`

var optionalColumns = []struct{ name, absent string }{{"is_direct", "0"}, {"param_types", "NULL"}}

// sqlColumns are the engines of the sql_<engine> columns, in select order.
var sqlColumns = []string{schemas.EnginePostgres, schemas.EngineMySQL, schemas.EngineSQLite, schemas.EngineDB2}

// ReadCatalog implements engines.Tables. table is an identifier the config
// has checked; the database name is bound.
func (b Base) ReadCatalog(ctx context.Context, conn engines.Conn, table, database string, tier1 bool) ([]engines.CatalogRow, error) {
	where := "database_name = " + b.D.P(1)
	if tier1 {
		where = "(database_name = '' OR database_name = " + b.D.P(1) + ")"
	}
	cols := catalogColumns
	for _, c := range optionalColumns {
		if b.hasColumn(ctx, conn, table, c.name) {
			cols += ", " + c.name
		} else {
			cols += ", " + c.absent
		}
	}
	q := "SELECT " + cols + " FROM " + table + " WHERE " + where + " AND status = 'active' ORDER BY ref"
	var rows []engines.CatalogRow
	err := Read(ctx, conn, engines.Statement{SQL: q, Args: []any{database}}, func(v []any) error {
		if len(v) != 15 {
			return fmt.Errorf("%d columns, want 15", len(v))
		}
		r := engines.CatalogRow{Name: Text(v[1]), Description: Text(v[2]), SQL: Text(v[3]), Queue: Text(v[8])}
		var errs [5]error
		var timeout, ttl int64
		r.Ref, errs[0] = Int(v[0])
		r.Public, errs[1] = Bool(v[9])
		timeout, errs[2] = Int(v[10])
		ttl, errs[3] = Int(v[11])
		r.Direct, errs[4] = Bool(v[13])
		if err := errors.Join(errs[:]...); err != nil {
			return fmt.Errorf("ref %v: %w", v[0], err)
		}
		r.TimeoutMS, r.CacheTTLS = int(timeout), int(ttl)
		for i, engine := range sqlColumns {
			if s := Text(v[4+i]); s != "" {
				if r.SQLByEngine == nil {
					r.SQLByEngine = map[string]string{}
				}
				r.SQLByEngine[engine] = s
			}
		}
		for _, t := range strings.Split(Text(v[12]), ",") {
			if t = strings.TrimSpace(t); t != "" {
				r.Tables = append(r.Tables, strings.ToLower(t))
			}
		}
		r.ParamTypes = paramTypes(Text(v[14]))
		rows = append(rows, r)
		return nil
	})
	var de *engines.DatabaseError
	if errors.As(err, &de) && b.D.NoTable != nil && b.D.NoTable(de) {
		return nil, fmt.Errorf("catalog table %s does not exist: dqm creates it at start when catalog.manage_tables is true, or create it from engines/%s/ddl/tables.sql (%w)", table, b.D.Engine, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read catalog table %s: %w", table, err)
	}
	return rows, nil
}

// paramTypes reads param_types, "NAME GROUP, NAME GROUP": a name without
// a group maps to "", which the catalog's compile refuses by name.
func paramTypes(s string) map[string]string {
	var m map[string]string
	for _, item := range strings.Split(s, ",") {
		f := strings.Fields(item)
		if len(f) == 0 {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[f[0]] = strings.ToUpper(strings.Join(f[1:], " "))
	}
	return m
}

// Applied implements engines.Requests.
func (b Base) Applied(ctx context.Context, conn engines.Conn, requestID string) (engines.Recorded, bool, error) {
	var rec engines.Recorded
	found := false
	err := Read(ctx, conn, engines.Statement{
		SQL:  "SELECT ref, body_hash, outcome FROM dqm_requests WHERE request_id = " + b.D.P(1),
		Args: []any{requestID},
	}, func(v []any) (err error) {
		found = true
		rec.Ref, err = Int(v[0])
		rec.BodyHash = Text(v[1])
		if v[2] != nil {
			rec.Outcome = []byte(Text(v[2]))
		}
		return err
	})
	if err != nil {
		return engines.Recorded{}, false, err
	}
	return rec, found, nil
}

// Record implements engines.Requests.
func (b Base) Record(requestID string, ref int64, bodyHash string) engines.Statement {
	return engines.Statement{
		SQL:  "INSERT INTO dqm_requests (request_id, ref, body_hash) VALUES (" + b.D.P(1) + ", " + b.D.P(2) + ", " + b.D.P(3) + ")",
		Args: []any{requestID, ref, bodyHash},
	}
}

// Outcome implements engines.Requests.
func (b Base) Outcome(requestID string, outcome func(*engines.Result) []byte) engines.Statement {
	return engines.Statement{
		SQL: "UPDATE dqm_requests SET outcome = " + b.D.P(1) + " WHERE request_id = " + b.D.P(2),
		Finish: func(res *engines.Result) []any {
			return []any{string(outcome(res)), requestID}
		},
	}
}

// PruneRequests implements engines.Requests.
func (b Base) PruneRequests(ctx context.Context, conn engines.Conn, olderThan time.Duration) error {
	if olderThan < 0 {
		return errors.New("prune dqm_requests: negative age")
	}
	cutoff := b.D.RequestsCutoff
	if cutoff == "" {
		cutoff = b.D.Cutoff
	}
	q := "DELETE FROM dqm_requests WHERE created_at < " + cutoff
	if _, err := conn.Run(ctx, []engines.Statement{{SQL: q, Args: []any{b.D.Age(olderThan.Seconds())}}}); err != nil {
		return fmt.Errorf("prune dqm_requests: %w", err)
	}
	return nil
}

// RemoveTriggers implements engines.Changes: the drops in one transaction.
func (b Base) RemoveTriggers(ctx context.Context, conn engines.Conn, _ string, tables []string) error {
	drops, err := b.D.Drops(tables)
	if err == nil && len(drops) > 0 {
		err = Exec(ctx, conn, drops...)
	}
	if err != nil {
		return fmt.Errorf("triggers: remove on %s: %w", b.D.Engine, err)
	}
	return nil
}

// FetchEvents implements engines.Changes.
func (b Base) FetchEvents(ctx context.Context, conn engines.Conn, after int64, limit int) ([]engines.Event, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("triggers: fetch limit %d: want a positive number", limit)
	}
	q := `SELECT sequence_id, table_name, op, ` + b.D.Data + `, created_at FROM trigger_events
		WHERE ` + b.D.Pending + ` AND sequence_id > ` + b.D.P(1) + ` ORDER BY sequence_id` + b.D.Limit(limit)
	var events []engines.Event
	err := Read(ctx, conn, engines.Statement{SQL: q, Args: []any{after}}, func(v []any) error {
		e := engines.Event{Table: Text(v[1]), Op: Text(v[2])}
		var err error
		if e.Seq, err = Int(v[0]); err == nil {
			if e.Data, err = compact(v[3]); err == nil {
				e.Time, err = Time(v[4])
			}
		}
		if err != nil {
			return fmt.Errorf("event %v: %w", v[0], err)
		}
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("triggers: fetch: %w", err)
	}
	return events, nil
}

// compact copies a JSON document out of a text value and compacts it.
func compact(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(Text(v))); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return b.Bytes(), nil
}

// markChunk bounds the ids one UPDATE lists, well within every engine's
// limit on bound parameters.
const markChunk = 500

// MarkDelivered implements engines.Changes. It takes the ids rather than
// "everything up to" one, as an event with a lower id may have committed
// after the fetch and must not be marked unseen.
func (b Base) MarkDelivered(ctx context.Context, conn engines.Conn, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	var stmts []engines.Statement
	for chunk := range slices.Chunk(seqs, markChunk) {
		var q strings.Builder
		q.WriteString("UPDATE trigger_events SET delivered = " + b.D.Done + " WHERE sequence_id IN (")
		args := make([]any, len(chunk))
		for i, s := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(b.D.P(i + 1))
			args[i] = s
		}
		q.WriteString(")")
		stmts = append(stmts, engines.Statement{SQL: q.String(), Args: args})
	}
	if _, err := conn.Run(ctx, stmts); err != nil {
		return fmt.Errorf("triggers: mark delivered: %w", err)
	}
	return nil
}

// PruneEvents implements engines.Changes; pending events are kept
// whatever their age.
func (b Base) PruneEvents(ctx context.Context, conn engines.Conn, olderThan time.Duration) error {
	if olderThan < 0 {
		return errors.New("triggers: prune: negative age")
	}
	q := "DELETE FROM trigger_events WHERE " + b.D.Sent + " AND created_at < " + b.D.Cutoff
	if _, err := conn.Run(ctx, []engines.Statement{{SQL: q, Args: []any{b.D.Age(olderThan.Seconds())}}}); err != nil {
		return fmt.Errorf("triggers: prune: %w", err)
	}
	return nil
}

// Wake implements engines.Changes for a polled engine: nil, nil.
func (Base) Wake(context.Context, string) (<-chan struct{}, error) { return nil, nil }

// Columns reads a table's columns with q, which selects name and type.
func Columns(ctx context.Context, conn engines.Conn, t Table, q string, args ...any) ([]Column, error) {
	var cols []Column
	err := Read(ctx, conn, engines.Statement{SQL: q, Args: args}, func(v []any) error {
		cols = append(cols, Column{Name: Text(v[0]), Type: Text(v[1])})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: columns: %w", t.Name, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: not found", t.Name)
	}
	return cols, nil
}

// Scalar runs a query of one text column and returns its first value
// ("" for NULL or no row).
func Scalar(ctx context.Context, conn engines.Conn, q string, args ...any) (string, error) {
	var s string
	err := Read(ctx, conn, engines.Statement{SQL: q, Args: args}, func(v []any) error {
		if s == "" {
			s = Text(v[0])
		}
		return nil
	})
	return s, err
}

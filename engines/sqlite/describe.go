package sqlite

import (
	"context"
	"strings"

	"github.com/dqmhq/dqm/engines"
)

// Describe implements engines.Describer. SQLite types values, not
// columns: a column's JSON form comes from its declared type, as a Run
// reads it (kindOf), or from that type's affinity; an expression (COUNT(*))
// declares none, and its type is left open. The statement runs wrapped to
// return no row (engines.ZeroRows), with NULL arguments: SQLite stops at a
// LIMIT of 0 before reading anything.
func (c *Conn) Describe(ctx context.Context, sql string, nargs int) ([]engines.ColumnType, error) {
	rows, err := c.conn.QueryContext(ctx, engines.ZeroRows(sql), engines.NullArgs(nargs)...)
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, classify(err)
	}
	cols := make([]engines.ColumnType, len(cts))
	for i, ct := range cts {
		declared := ct.DatabaseTypeName()
		cols[i] = jsonOf(declared).Named(ct.Name(), declared)
	}
	return cols, rows.Close()
}

// jsonOf is the JSON form encode gives a column declared so.
func jsonOf(declared string) engines.ColumnType {
	switch kindOf(declared) {
	case kindBool:
		return engines.JSONBool
	case kindDate:
		return engines.JSONDate
	case kindTimestamp:
		return engines.JSONTimestamp
	case kindNumeric:
		return engines.JSONDecimal
	case kindJSON:
		return engines.JSONAny
	case kindFloat:
		return engines.JSONFloat
	}
	d := strings.ToUpper(declared)
	if d == "" {
		return engines.ColumnType{Note: "SQLite declares no type for an expression: any JSON value"}
	}
	c := affinity(d)
	c.Note = strings.TrimPrefix(c.Note+"; ", "; ") + "from the declared type's affinity (SQLite types values, not columns)"
	return c
}

// affinity is the JSON form of a declared type's affinity, by SQLite's
// rules (datatype3.html §3.1) in their order; NUMERIC affinity is open.
func affinity(d string) engines.ColumnType {
	switch {
	case strings.Contains(d, "INT"):
		return engines.JSONInt64
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"):
		return engines.JSONText
	case strings.Contains(d, "BLOB"):
		return engines.JSONBytes
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return engines.JSONFloat
	}
	return engines.ColumnType{}
}

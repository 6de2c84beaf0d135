package mysql

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/dqmhq/dqm/engines"
)

// Describe implements engines.Describer. The server sends a prepared
// statement's columns at prepare, but go-sql-driver/mysql reads past them
// and keeps them nowhere a caller can see (v1.10; on MariaDB with cached
// metadata it keeps them unexported), so the statement runs wrapped to
// return no row (engines.ZeroRows) with NULL arguments, on the binary
// protocol as a Run does, and its result set's columns are read as a Run
// reads them (kindOf). A LIMIT 0 over a derived table that can be merged
// reads nothing; one the server must materialize first (an aggregate, a
// UNION, SLEEP) runs, bounded by ctx's deadline as the session statement
// limit (timeout.go, layer 1). A statement whose columns cannot be a
// derived table's (two columns of one name) is not described.
func (c *Conn) Describe(ctx context.Context, sql string, nargs int) ([]engines.ColumnType, error) {
	if c.lost != nil {
		return nil, c.lost
	}
	// The driver closes a connection whose context ends mid-statement: it
	// gets one that does not, and the session limit stops the statement.
	dctx := context.WithoutCancel(ctx)
	if err := c.setLimit(ctx, dctx); err != nil {
		return nil, Classify(err)
	}
	ds, err := c.dc.(driver.ConnPrepareContext).PrepareContext(dctx, engines.ZeroRows(sql))
	if err != nil {
		return nil, Classify(err)
	}
	defer ds.Close()
	nv := make([]driver.NamedValue, nargs)
	for i := range nv {
		nv[i].Ordinal = i + 1
	}
	rows, err := ds.(driver.StmtQueryContext).QueryContext(dctx, nv)
	if err != nil {
		return nil, Classify(err)
	}
	defer rows.Close()
	names := rows.Columns()
	widths, flags := make([]uint32, len(names)), make([]uint16, len(names))
	meta(rows, widths, flags)
	typed, ok := rows.(driver.RowsColumnTypeDatabaseTypeName)
	if !ok {
		return nil, fmt.Errorf("mysql: the driver's rows have no type names")
	}
	nullable, _ := rows.(driver.RowsColumnTypeNullable)
	cols := make([]engines.ColumnType, len(names))
	for i, name := range names {
		typeName := typed.ColumnTypeDatabaseTypeName(i)
		cols[i] = jsonOf(kindOf(typeName, widths[i], flags[i], c.mariadb), typeName).Named(name, typeName)
		if nullable != nil {
			if null, known := nullable.ColumnTypeNullable(i); known {
				cols[i].NotNull = !null
			}
		}
	}
	return cols, rows.Close()
}

// jsonOf is the JSON form encode gives a column of kind k.
func jsonOf(k kind, typeName string) engines.ColumnType {
	switch k {
	case kindInt:
		if typeName == "BIGINT" {
			return engines.JSONInt64
		}
		return engines.JSONInt
	case kindUint, kindBit:
		if typeName == "UNSIGNED BIGINT" || k == kindBit {
			return engines.JSONInt64
		}
		return engines.JSONInt
	case kindBool:
		return engines.JSONBool
	case kindDecimal:
		return engines.JSONDecimal
	case kindFloat32, kindFloat64:
		return engines.JSONFloat
	case kindDate:
		return engines.ColumnType{JSON: []string{"string"}, Format: "date", Note: "the zero date is null"}
	case kindTimestamp:
		return engines.ColumnType{JSON: []string{"string"}, Format: "date-time", Note: "the zero date is null"}
	case kindTime:
		return engines.ColumnType{JSON: []string{"string"}, Note: "[-]HH:MM:SS[.ffffff], an interval: may pass 24 h"}
	case kindBytes:
		return engines.JSONBytes
	case kindJSON:
		return engines.JSONAny
	case kindNull:
		return engines.ColumnType{Note: "always NULL"}
	}
	return engines.JSONText
}

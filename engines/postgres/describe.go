package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dqmhq/dqm/engines"
)

// Describe implements engines.Describer with the protocol's own Describe:
// the statement is prepared (unnamed) and never executed.
func (c *Conn) Describe(ctx context.Context, sql string, _ int) ([]engines.ColumnType, error) {
	sd, err := c.pg.PgConn().Prepare(ctx, "", sql, nil)
	if err != nil {
		return nil, c.classify(err)
	}
	cols := make([]engines.ColumnType, len(sd.Fields))
	for i, fd := range sd.Fields {
		fd.Format = resultFormats[fd.DataTypeOID] // as a Run asks for it
		name := "oid " + strconv.FormatUint(uint64(fd.DataTypeOID), 10)
		if t, ok := c.pg.TypeMap().TypeForOID(fd.DataTypeOID); ok {
			name = t.Name
		}
		cols[i] = jsonOf(fd).Named(fd.Name, name)
	}
	return cols, nil
}

// jsonOf is the JSON form encodeValue gives a column of kind kindOf(fd).
func jsonOf(fd pgconn.FieldDescription) engines.ColumnType {
	switch kindOf(fd) {
	case kindJSON, kindJSONB:
		return engines.JSONAny
	case kindBool:
		return engines.JSONBool
	case kindInt2, kindInt4, kindOID:
		return engines.JSONInt
	case kindInt8:
		return engines.JSONInt64
	case kindFloat4, kindFloat8:
		return engines.JSONFloat
	case kindNumeric:
		return engines.JSONDecimal
	case kindBytes:
		return engines.JSONBytes
	case kindDate:
		// PostgreSQL's infinite dates break the date format.
		return engines.ColumnType{JSON: []string{"string"}, Note: "YYYY-MM-DD, or infinity / -infinity"}
	case kindTime:
		return engines.JSONTimeOfDay
	case kindTimestamp:
		return engines.ColumnType{JSON: []string{"string"}, Note: "RFC 3339 in UTC, or infinity / -infinity"}
	}
	return engines.JSONText // every text-format type
}

package enginetest

import (
	"context"
	"testing"

	"github.com/dqmhq/dqm/engines"
)

// Harness is what an engine's test gives the suite.
type Harness struct {
	// Engine is the engine under test.
	Engine engines.Engine
	// DSN returns the DSN of a fresh namespace of its own for one test (a
	// PostgreSQL schema, a MySQL database, an SQLite file) and removes it
	// in t.Cleanup. The suite calls it once per top-level subtest, and
	// those run in parallel.
	DSN func(t *testing.T) string
	// Features says where the engine legitimately differs.
	Features Features
}

// Type names a logical column type of the type-mapping table.
type Type string

// The logical types the suite creates columns of.
const (
	Integer     Type = "integer"     // 64-bit integer
	Numeric     Type = "numeric"     // exact decimal with 9 fraction digits, 29 before
	Float       Type = "float"       // 64-bit float
	Float4      Type = "float4"      // 32-bit float
	Boolean     Type = "boolean"     // true/false
	Date        Type = "date"        // calendar date
	Time        Type = "time"        // time of day, whole seconds
	Datetime    Type = "datetime"    // date and time without zone, microseconds
	TimestampTZ Type = "timestamptz" // an instant: values given with an offset are converted to UTC
	Text        Type = "text"        // unbounded text
	String      Type = "string"      // text of at most 200 characters
	Bytes       Type = "bytes"       // binary
	JSON        Type = "json"        // JSON document
)

// Features says what an engine does differently from the others without
// being wrong.
type Features struct {
	// Types is the column type to declare for each logical type in CREATE
	// TABLE. Integer, String, Text, Float, Boolean, Date, Time and
	// Datetime are required; the type-mapping cases of a missing optional
	// type are skipped, with the reason logged.
	Types map[Type]string
	// Casts is the type for CAST(? AS ...) that makes a bound parameter in
	// a select list come back as its logical type. A type without one is
	// not checked in select lists (SQLite expressions have no declared
	// type to map a date-time or boolean by).
	Casts map[Type]string
	// BoolAsInt: booleans are stored and read as 1 and 0 (MySQL's
	// TINYINT(1)).
	BoolAsInt bool
	// DescribeRuns: the engine's Describe runs the statement to return no
	// row, so one the engine must compute first (Sleep) runs until the
	// context's deadline (MySQL, MariaDB).
	DescribeRuns bool
	// JSONAsText: JSON columns read as the text of the document, a JSON
	// string, not as embedded JSON.
	JSONAsText bool
	// DivisionByZeroIsNull: SELECT 1/0 is NULL, not an error (SQLite,
	// MySQL outside strict writes).
	DivisionByZeroIsNull bool
	// Sleep is a statement that runs for at least two seconds unless it
	// is interrupted (pg_sleep(2), SLEEP(2), a heavy recursive CTE).
	Sleep string
	// Series is a query of one integer column n holding 1..10000 in order.
	// Empty means a portable one: a CTE of ten digits, cross-joined.
	Series string
	// UnreachableDSN is a DSN Open must fail on as unavailable (a closed
	// port, a directory that does not exist). Empty skips the check.
	UnreachableDSN string
	// Kill ends conn from outside, as an administrator or a crashed server
	// would, and returns once it is gone. dsn is the one conn was opened
	// with. Nil means the engine has no such thing (SQLite is a file in
	// the process) and the reconnect check is skipped.
	Kill func(ctx context.Context, dsn string, conn engines.Conn) error
}

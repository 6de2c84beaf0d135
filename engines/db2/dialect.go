package db2

import (
	"strings"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// What DB2 is to dqm without its driver: the engine's name and placeholder
// style, identifier quoting; DSNs (dsn.go), the deadline mechanism's SQL
// (deadline.go), the type mapping (types.go) and error classes
// (errors.go). Plain Go, in every build.

// Name is the engine's config name.
const Name = schemas.EngineDB2

// Style is DB2's placeholder style: ? per occurrence.
const Style = engines.Question

// DriverName is the database/sql name go_ibm_db registers itself under.
const DriverName = "go_ibm_db"

// DefaultPort is DB2's usual TCP port.
const DefaultPort = "50000"

// QuoteIdent quotes an identifier for DB2 SQL: "name", '"' doubled. DB2
// folds unquoted names to upper case, so a quoted name must match the
// catalog's case (usually upper).
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

package engines

import "context"

// Describer is a Conn that can say what a statement returns without
// running it: its result columns, each with the JSON types dqm writes its
// values as. The server uses it for the per-database OpenAPI document
// (the row schema of each catalog entry); a Conn that is not one has its
// rows left undescribed there. Describe is for reads only: an engine may
// describe by running the statement wrapped to return no row (ZeroRows),
// with NULL arguments.
type Describer interface {
	// Describe describes sql, already in the engine's placeholder style,
	// which takes nargs arguments.
	Describe(ctx context.Context, sql string, nargs int) ([]ColumnType, error)
}

// ColumnType is one result column as dqm encodes it.
type ColumnType struct {
	Name string
	// JSON lists the JSON Schema types a value is written as ("integer",
	// "number", "string", "boolean"), NULL aside; nil when any JSON value
	// may come (a JSON column) or the engine cannot tell (Note says why).
	JSON []string
	// Format is the JSON Schema format of a string value, if it has one:
	// date, date-time or byte (base64).
	Format string
	// DatabaseType is the engine's own name for the column's type.
	DatabaseType string
	// NotNull is true when the engine knows the column holds no NULL.
	NotNull bool
	// Note says what the JSON types do not: why they are loose or unknown.
	Note string
}

// The JSON forms shared by every engine's RowWriter (rows.go).
var (
	// JSONInt64 is a 64-bit integer: a number within ±2^53, else a string.
	JSONInt64 = ColumnType{JSON: []string{"integer", "string"}, Note: "a string beyond ±2^53"}
	// JSONFloat is a float: a number, or the string NaN, Infinity or -Infinity.
	JSONFloat = ColumnType{JSON: []string{"number", "string"}, Note: "NaN and ±Infinity as strings"}
	// JSONDecimal is an exact decimal: a string of its digits.
	JSONDecimal = ColumnType{JSON: []string{"string"}, Note: "exact decimal digits"}
	// JSONBytes is binary data: standard base64.
	JSONBytes = ColumnType{JSON: []string{"string"}, Format: "byte"}
	// JSONDate is YYYY-MM-DD.
	JSONDate = ColumnType{JSON: []string{"string"}, Format: "date"}
	// JSONTimeOfDay is HH:MM:SS[.fraction].
	JSONTimeOfDay = ColumnType{JSON: []string{"string"}, Note: "HH:MM:SS[.ffffff]"}
	// JSONTimestamp is RFC 3339 in UTC.
	JSONTimestamp = ColumnType{JSON: []string{"string"}, Format: "date-time"}
	// JSONAny is a JSON column's value, embedded as stored.
	JSONAny = ColumnType{Note: "a JSON value as stored"}
	// JSONInt, JSONText and JSONBool are what they say.
	JSONInt  = ColumnType{JSON: []string{"integer"}}
	JSONText = ColumnType{JSON: []string{"string"}}
	JSONBool = ColumnType{JSON: []string{"boolean"}}
)

// Named returns c for the column name and database type.
func (c ColumnType) Named(name, databaseType string) ColumnType {
	c.Name, c.DatabaseType = name, databaseType
	return c
}

// ZeroRows wraps a query so that it returns its columns and no row, for
// engines that describe by running (LIMIT 0 is answered without reading a
// row): the statement's own text stays intact inside, comments and all.
func ZeroRows(sql string) string {
	return "SELECT * FROM (\n" + sql + "\n) dqm_describe LIMIT 0"
}

// NullArgs is n NULL arguments, to run a description with.
func NullArgs(n int) []any { return make([]any, n) }

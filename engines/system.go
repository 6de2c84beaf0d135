package engines

import (
	"context"
	"encoding/json"
	"time"
)

// System is what dqm itself runs on a database beside the clients'
// queries, in the engine's own dialect. Its reads return Go values, never
// the client-facing JSON of Result.Rows. Each method takes a connection of
// the same engine.
type System interface {
	Tables
	Requests
	Changes
}

// Tables are dqm's own tables: the catalog (queries) table and dqm_requests.
type Tables interface {
	// Setup creates the catalog table (named as configured: name or
	// schema.name) and dqm_requests where they are missing (the engine's
	// own DDL, e.g. postgres/ddl/tables.sql), adds the columns a
	// dqm_requests made by an older dqm lacks (body_hash, outcome), then
	// runs seed, a script of statements. It is idempotent.
	Setup(ctx context.Context, conn Conn, catalogTable, seed string) error
	// ReadCatalog reads the active rows of a catalog table for database, in
	// ref order. tier1 also takes the rows whose database_name is empty
	// (the table's own database); a host's table (tier 2) names each row's
	// database.
	ReadCatalog(ctx context.Context, conn Conn, table, database string, tier1 bool) ([]CatalogRow, error)
}

// Requests is the idempotency record of writes (dqm_requests): a write
// records its request id first and its outcome last in its own
// transaction, so the record exists exactly when the write committed and
// holds what the first attempt answered.
type Requests interface {
	// Applied looks up the record of a write's request id: ok is false
	// when no write with the id committed.
	Applied(ctx context.Context, conn Conn, requestID string) (rec Recorded, ok bool, err error)
	// Record is the statement that records a write's request id, ref and
	// body hash; it runs first in the write's own transaction (a second
	// attempt of the same id waits on, then fails at, its key).
	Record(requestID string, ref int64, bodyHash string) Statement
	// Outcome is the statement that stores the write's outcome in its
	// record; it runs last in the same transaction, outcome making the
	// stored text (the reply body's JSON) from the result of the
	// statements before it (Statement.Finish).
	Outcome(requestID string, outcome func(*Result) []byte) Statement
	// PruneRequests forgets ids recorded more than olderThan ago.
	PruneRequests(ctx context.Context, conn Conn, olderThan time.Duration) error
}

// Recorded is the record of a committed write.
type Recorded struct {
	Ref int64
	// BodyHash identifies the request's ref and canonical params; "" for
	// a record made before dqm_requests had the column.
	BodyHash string
	// Outcome is the first attempt's reply body (JSON); nil for a record
	// made before dqm_requests had the column.
	Outcome []byte
}

// Changes is change capture: row triggers record every insert, update and
// delete of watched tables into trigger_events, with a sequence id.
type Changes interface {
	// InstallTriggers creates trigger_events where missing and brings the
	// tables' triggers up to date with their columns. dsn is the
	// database's, for engines that run DDL on a connection of its own.
	InstallTriggers(ctx context.Context, conn Conn, dsn string, tables []string) error
	// RemoveTriggers drops the tables' triggers; trigger_events stays.
	RemoveTriggers(ctx context.Context, conn Conn, dsn string, tables []string) error
	// FetchEvents returns up to limit undelivered events with a sequence id
	// above after, in sequence order.
	FetchEvents(ctx context.Context, conn Conn, after int64, limit int) ([]Event, error)
	// MarkDelivered marks exactly these events delivered, in one
	// transaction.
	MarkDelivered(ctx context.Context, conn Conn, seqs []int64) error
	// PruneEvents deletes delivered events older than olderThan.
	PruneEvents(ctx context.Context, conn Conn, olderThan time.Duration) error
	// Wake returns a channel that receives a wake-up after changes commit
	// (PostgreSQL's LISTEN), closed once ctx ends; nil, nil where the
	// engine is polled.
	Wake(ctx context.Context, dsn string) (<-chan struct{}, error)
}

// CatalogRow is one row of a catalog table.
type CatalogRow struct {
	Ref         int64
	Name        string
	Description string
	SQL         string            // sql_text
	SQLByEngine map[string]string // the non-empty sql_<engine> columns, by engine name
	Queue       string
	Public      bool
	Direct      bool // is_direct: a read answered on the direct lane
	TimeoutMS   int
	CacheTTLS   int
	Tables      []string // tables_list, split, trimmed and lower-cased
	// ParamTypes is param_types ("START INTEGER, FINISH INTEGER"): each
	// parameter's type group, by name; nil when the column is empty.
	ParamTypes map[string]string
}

// Event is one recorded change.
type Event struct {
	// Seq is the event's sequence id. Ids are taken at insert and become
	// visible at commit, so an event may appear after one with a higher
	// id (its transaction committed later): a loop that misses none
	// fetches from 0, publishes in order and marks exactly what it
	// published.
	Seq int64
	// Table is the table's name as configured (name or schema.name).
	Table string
	// Op is insert, update or delete.
	Op string
	// Data is {"new": row} for an insert, {"new": row, "old": row} for an
	// update and {"old": row} for a delete, compact. A row is an object of
	// its columns: integers as numbers, text as strings, NULL as null,
	// binary as "\x" and lowercase hex; booleans are true/false on
	// PostgreSQL but 1/0 on MySQL and SQLite, and dates and times are the
	// engine's own text for them.
	Data json.RawMessage
	// Time is when the change was recorded, by the database's clock, UTC.
	Time time.Time
}

// Reader is the typed read every engine's Conn offers for dqm's own
// statements. Read runs one statement and calls row once per result row
// with its values as the driver gives them (integers, floats, string or
// []byte text, bool, time.Time, nil for NULL); the slice and any []byte
// in it are reused after row returns.
type Reader interface {
	Read(ctx context.Context, st Statement, row func(vals []any) error) error
}

// Package postgres is the PostgreSQL engine, on pgx/v5's native Conn (no
// database/sql, no pool): one persistent connection per worker, pgx's
// prepared-statement cache sized from Options, and a context watcher that
// cancels a running query with a CancelRequest so the connection survives
// a deadline. Rows are decoded straight from the wire format by column OID
// into engines.RowWriter; Classify turns SQLSTATEs into contract codes.
// Sessions run with TimeZone=UTC (unless the DSN sets it), so zoneless
// values read and bind as UTC like every other engine's.
package postgres

// Package sqlite is the SQLite engine, on modernc.org/sqlite (pure Go, no
// cgo). Each Conn is one connection in WAL mode with a busy timeout, its
// own prepared-statement cache, and statement timeouts through SQLite's
// interrupt (the driver calls sqlite3_interrupt when the context ends).
//
// DSN: a file path, a file: URI, or ":memory:" (private to its connection,
// so each worker would see its own empty database: use a file to share).
// Values take SQLite's storage class; the declared column type refines the
// JSON form (BOOLEAN → true/false, DATE/DATETIME/TIMESTAMP → dates, JSON →
// embedded JSON, NUMERIC/DECIMAL → string). SELECT 1/0 is NULL in SQLite.
package sqlite

// Package sqlite is the SQLite engine, on modernc.org/sqlite (pure Go, no
// cgo). Each Conn is one connection in WAL mode with a busy timeout, its
// own prepared-statement cache, and statement timeouts through SQLite's
// interrupt. DSN: a file path, a file: URI, or ":memory:" (private to its
// connection: use a file to share); PrepareDSN creates its directory. The
// declared column type refines a value's JSON form (BOOLEAN, DATE..., JSON,
// NUMERIC as string). system.go and ddl/ are dqm's own SQL (triggers of the
// main database only) and DemoSeed the demo database of `make run`.
package sqlite

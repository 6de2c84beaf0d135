// Package db2 is the DB2 engine. In every build, plain Go: names and
// quoting (dialect.go), DSNs (dsn.go), types (types.go), error classes
// (errors.go), the deadline SQL (deadline.go) and dqm's own SQL (system.go,
// ddl/). db2.go (-tags db2) runs on database/sql with IBM's go_ibm_db (cgo
// over the CLI), opened by name, not imported: a DB2 binary adds `import _
// "github.com/ibmdb/go_ibm_db"` (go get …@v0.5.4) under `//go:build db2`
// beside cmd/dqm/engines_db2.go and installs clidriver (IBM_DB_HOME,
// CGO_CFLAGS/LDFLAGS, LD_LIBRARY_PATH). db2fake stands in for the driver in
// tests. Deadlines: WLM_CANCEL_ACTIVITY from a second connection. go_ibm_db
// calls flag.Parse when an argument contains "trace": keep it out of argv.
package db2

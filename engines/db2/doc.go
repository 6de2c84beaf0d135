// Package db2 is the DB2 engine. dialect.go (every build) holds DSNs, quoting,
// type mapping and error classes; db2.go (-tags db2) runs on database/sql
// with IBM's go_ibm_db (cgo over the CLI), which this module does not import:
// a DB2 binary adds `//go:build db2` + `import _ "github.com/ibmdb/go_ibm_db"`
// (cmd/dqm/db2.go) after `go get github.com/ibmdb/go_ibm_db@v0.5.4` and
// installs clidriver (IBM_DB_HOME; CGO_CFLAGS=-I$IBM_DB_HOME/include,
// CGO_LDFLAGS=-L$IBM_DB_HOME/lib, LD_LIBRARY_PATH=$IBM_DB_HOME/lib). Without
// it Open says the driver is missing. Deadlines: WLM_CANCEL_ACTIVITY from a
// second connection (dialect.go). go_ibm_db defines a -trace flag and calls
// flag.Parse when any argument contains "trace": keep that word out of argv.
package db2

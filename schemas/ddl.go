package schemas

import (
	"embed"
	"fmt"
)

//go:embed ddl/*.sql
var ddl embed.FS

// DDL returns the statements that create dqm's own tables (the queries
// catalog) on an engine: postgres, mysql, sqlite or db2.
func DDL(engine string) (string, error) {
	b, err := ddl.ReadFile("ddl/" + engine + ".sql")
	if err != nil {
		return "", fmt.Errorf("no DDL for engine %q", engine)
	}
	return string(b), nil
}

// DemoSQLite returns the statements that fill the demo database of
// `make run` (run after DDL("sqlite")).
func DemoSQLite() string {
	b, _ := ddl.ReadFile("ddl/demo.sqlite.sql")
	return string(b)
}

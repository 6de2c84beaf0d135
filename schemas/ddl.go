package schemas

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed ddl/*.sql
var ddl embed.FS

// DDL returns the statements that create dqm's own tables on an engine
// (postgres, mysql, sqlite or db2): the catalog table, named table (an
// identifier the config has checked: name or schema.name), and
// dqm_requests.
func DDL(engine, table string) (string, error) {
	b, err := ddl.ReadFile("ddl/" + engine + ".sql")
	if err != nil {
		return "", fmt.Errorf("no DDL for engine %q", engine)
	}
	return strings.ReplaceAll(string(b), "{{queries}}", table), nil
}

// DemoSQLite returns the statements that fill the demo database of
// `make run` (run after DDL("sqlite")).
func DemoSQLite() string {
	b, _ := ddl.ReadFile("ddl/demo.sqlite.sql")
	return string(b)
}

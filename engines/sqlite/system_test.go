package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/sqlite"
)

// TestDemoSeed: the demo database's script (ddl/demo.sql) runs after
// dqm's own tables (ddl/tables.sql) and fills the numbers and the catalog.
func TestDemoSeed(t *testing.T) {
	ctx := context.Background()
	e := sqlite.New()
	conn, err := e.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	seed := e.(sqlite.Engine).DemoSeed()
	if err := e.System().Setup(ctx, conn, "queries", seed); err != nil {
		t.Fatalf("Setup with the demo seed: %v", err)
	}
	res, err := conn.Run(ctx, []engines.Statement{{SQL: "SELECT COUNT(*) AS n FROM numbers"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Rows) != `[{"n":10000}]` {
		t.Errorf("numbers: %s, want 10000", res.Rows)
	}
	rows, err := e.System().ReadCatalog(ctx, conn, "queries", "demo", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0].Ref != 1 {
		t.Errorf("demo catalog: %+v", rows)
	}
}

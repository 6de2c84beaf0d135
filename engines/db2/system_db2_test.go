//go:build db2

package db2

import (
	"context"
	"testing"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/db2/db2fake"
)

// TestDB2System runs the System through the engine against db2fake: DDL
// made idempotent by SQLSTATEs 42710 and 42704, typed reads of the
// catalog, dqm_requests and trigger_events.
func TestDB2System(t *testing.T) {
	const driverName = "dqm_db2fake_system"
	db2fake.Register(driverName)
	fake := db2fake.Database("SYSTEST", db2fake.Query{Ref: 9, Name: "nine", SQL: "VALUES 9", Queue: "fast", Public: true, Tables: "Items", TimeoutMS: 100})
	e := Engine{driver: driverName}
	ctx := context.Background()
	conn, err := e.Open(ctx, "HOSTNAME=h;PORT=1;DATABASE=SYSTEST;UID=u;PWD=p", engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sys := e.System()
	for i := range 2 {
		if err := sys.Setup(ctx, conn, "queries", ""); err != nil {
			t.Fatalf("Setup #%d: %v", i+1, err)
		}
	}
	rows, err := sys.ReadCatalog(ctx, conn, "queries", "x", true)
	if err != nil || len(rows) != 1 || rows[0].Ref != 9 || !rows[0].Public || rows[0].TimeoutMS != 100 || rows[0].Tables[0] != "items" {
		t.Fatalf("ReadCatalog = %+v, %v", rows, err)
	}
	if _, ok, err := sys.Applied(ctx, conn, "r1"); ok || err != nil {
		t.Fatalf("Applied before = %v, %v", ok, err)
	}
	ins := engines.Statement{SQL: "INSERT INTO items (id, name) VALUES (?, ?)", Args: []any{int64(1), "one"}}
	for i := range 2 {
		if err := sys.InstallTriggers(ctx, conn, "", []string{"items"}); err != nil {
			t.Fatalf("InstallTriggers #%d: %v", i+1, err)
		}
	}
	if _, err := conn.Run(ctx, []engines.Statement{sys.Record("r1", 2, "h"), ins}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := sys.Applied(ctx, conn, "r1"); !ok || err != nil {
		t.Fatalf("Applied after = %v, %v", ok, err)
	}
	evs, err := sys.FetchEvents(ctx, conn, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Op != "insert" || string(evs[0].Data) != `{"new":{"id":1,"name":"one"}}` {
		t.Fatalf("FetchEvents = %+v, %v", evs, err)
	}
	if err := sys.MarkDelivered(ctx, conn, []int64{evs[0].Seq}); err != nil {
		t.Fatal(err)
	}
	if evs, err := sys.FetchEvents(ctx, conn, 0, 10); len(evs) != 0 || err != nil {
		t.Fatalf("FetchEvents after marking = %+v, %v", evs, err)
	}
	for i := range 2 {
		if err := sys.RemoveTriggers(ctx, conn, "", []string{"items"}); err != nil {
			t.Fatalf("RemoveTriggers #%d: %v", i+1, err)
		}
	}
	if n := len(fake.Triggers()); n != 0 {
		t.Fatalf("%d triggers left", n)
	}
	if err := sys.PruneRequests(ctx, conn, 0); err != nil {
		t.Fatal(err)
	}
}

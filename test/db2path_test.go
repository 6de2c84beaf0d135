//go:build db2

package test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/db2"
	"github.com/dqmhq/dqm/engines/db2/db2fake"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestDB2Path drives a DB2 database through the whole server with a fake
// go_ibm_db: the registry links the engine, Open reaches the driver by
// name, Setup creates dqm's tables, the Lead installs triggers and
// publishes their events, a REST query runs with DB2's placeholders, and a
// redelivered write is answered from its dqm_requests record.
func TestDB2Path(t *testing.T) {
	db2fake.Register(db2.DriverName)
	name := testutil.Unique("DQMT")
	fake := db2fake.Database(name,
		db2fake.Query{Ref: 1, Name: "item", SQL: "SELECT id, name FROM items WHERE id = :ID", Queue: "medium", Public: true, Tables: "items"},
		db2fake.Query{Ref: 2, Name: "add", SQL: "INSERT INTO items (id, name) VALUES (:ID, :NAME)", Queue: "medium", Public: true, Tables: "items"})
	cfg := testConfig(t)
	d := *cfg.Databases["demo"]
	d.Name, d.Engine = "big", schemas.EngineDB2
	d.DSN = config.DSN("HOSTNAME=localhost;PORT=50000;DATABASE=" + name + ";UID=u;PWD=p")
	d.Catalog = config.Catalog{Table: "queries", ManageTables: true}
	d.Triggers = config.Triggers{Tables: []string{"items"}, PollMS: 50}
	d.IdempotentWrites = true
	cfg.Databases = map[string]*config.Database{"big": &d}
	s := start(t, cfg)

	// Setup and triggers DDL, in DB2's dialect.
	testutil.Eventually(t, 5*time.Second, "triggers installed", func() bool { return len(fake.Triggers()) == 6 })
	for _, tbl := range []string{"QUERIES", "DQM_REQUESTS", "TRIGGER_EVENTS", "TRIGGER_EVENTS_PENDING"} {
		if !fake.Created(tbl) {
			t.Errorf("%s not created", tbl)
		}
	}
	if ddl := fake.Triggers()["DQM_ITEMS_INS"]; !strings.Contains(ddl, `KEY 'id' VALUE N."ID"`) {
		t.Errorf("insert trigger: %s", ddl)
	}
	// Setup again (a restart) meets 42710 and carries on.
	ctx := context.Background()
	e, err := engines.New(schemas.EngineDB2)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := e.Open(ctx, d.DSN.Reveal(), engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := e.System().Setup(ctx, conn, "queries", ""); err != nil {
		t.Fatalf("Setup on existing tables: %v", err)
	}

	// A write delivered twice with one ce-id runs once.
	js, _ := jetstream.New(s.NATS())
	inbox := nats.NewInbox()
	sub, _ := s.NATS().SubscribeSync(inbox)
	defer sub.Unsubscribe()
	data, _ := json.Marshal(schemas.QueryRequest{QueryRef: 2, Params: schemas.Params{
		"INTEGER": {"ID": json.RawMessage(`5`)}, "STRING": {"NAME": json.RawMessage(`"five"`)}}})
	for i, msgID := range []string{"first", "second"} {
		m := wireRequest("db.big.medium", "db2-write-once", inbox, time.Now().Add(10*time.Second), data)
		m.Header.Set("Nats-Msg-Id", msgID)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
		reply := nextReply(t, sub)
		if reply["success"] != true {
			t.Fatalf("delivery %d: %v", i, reply)
		}
		if i == 1 && !strings.Contains(fmt.Sprint(reply["message"]), "already applied") {
			t.Fatalf("redelivery ran again: %v", reply)
		}
	}
	if got := fake.Requests(); len(got) != 1 || got["db2-write-once"] != 2 {
		t.Errorf("dqm_requests %v, want db2-write-once for ref 2", got)
	}

	// A read over REST, its SQL in DB2's placeholder style.
	status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":1,"database":"big","params":{"INTEGER":{"ID":5}}}`)
	rows, _ := body["rows"].([]any)
	if status != 200 || len(rows) != 1 || fmt.Sprint(rows[0]) != "map[ID:5 NAME:five]" {
		t.Fatalf("query: %d %v", status, body)
	}
	if !slices.Contains(fake.Prepared(), "SELECT id, name FROM items WHERE id = ?") {
		t.Errorf("no statement with ? placeholders among %q", fake.Prepared())
	}

	// The insert's trigger event is fetched, published and marked
	// delivered.
	testutil.Eventually(t, 5*time.Second, "event delivered", func() bool {
		evs := fake.Events()
		return len(evs) == 1 && evs[0].Delivered
	})
}

package enginetest

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// The System checks: every engine runs dqm's own statements the same way.

// systemWait bounds what the checks wait for (a prune at second
// resolution, a wake-up).
const systemWait = 5 * time.Second

func (s *suite) sysCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	t.Cleanup(cancel)
	return ctx
}

// testSystemSetup: Setup is idempotent, runs its seed, and ReadCatalog
// returns typed values (booleans whatever the engine stores them as).
func (s *suite) testSystemSetup(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	ctx, sys := s.sysCtx(t), s.h.Engine.System()
	for i := range 2 {
		if err := sys.Setup(ctx, c, "queries", ""); err != nil {
			t.Fatalf("Setup #%d: %v", i+1, err)
		}
	}
	const cols = "INSERT INTO queries (database_name, ref, name, description, sql_text, sql_postgres, queue, is_public, is_direct, timeout_ms, cache_ttl_s, tables_list, param_types, status) VALUES "
	seed := cols + "('', 1, 'one', 'the first', 'SELECT 1', 'SELECT 1::int', 'fast', TRUE, TRUE, 250, 60, 'Items, sales.Other', 'N integer,  D DATE', 'active');\n" +
		cols + "('shop', 2, 'two', '', 'SELECT 2', NULL, 'medium', FALSE, FALSE, 0, 0, '', NULL, 'active');\n" +
		cols + "('other', 3, 'three', '', 'SELECT 3', NULL, 'slow', TRUE, FALSE, 0, 0, '', '', 'active');\n" +
		cols + "('shop', 4, 'gone', '', 'SELECT 4', NULL, 'slow', TRUE, FALSE, 0, 0, '', '', 'retired');\n"
	if err := sys.Setup(ctx, c, "queries", seed); err != nil {
		t.Fatalf("Setup with a seed: %v", err)
	}
	one := engines.CatalogRow{Ref: 1, Name: "one", Description: "the first", SQL: "SELECT 1",
		SQLByEngine: map[string]string{"postgres": "SELECT 1::int"}, Queue: "fast", Public: true, Direct: true,
		TimeoutMS: 250, CacheTTLS: 60, Tables: []string{"items", "sales.other"}, ParamTypes: map[string]string{"N": "INTEGER", "D": "DATE"}}
	two := engines.CatalogRow{Ref: 2, Name: "two", SQL: "SELECT 2", Queue: "medium"}
	for _, tc := range []struct {
		tier1 bool
		want  []engines.CatalogRow
	}{{true, []engines.CatalogRow{one, two}}, {false, []engines.CatalogRow{two}}} {
		got, err := sys.ReadCatalog(ctx, c, "queries", "shop", tc.tier1)
		if err != nil {
			t.Fatalf("ReadCatalog: %v", err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ReadCatalog(tier1 %v)\n got %+v\nwant %+v", tc.tier1, got, tc.want)
		}
	}
	// A missing catalog table is one clear problem, named as such.
	if _, err := sys.ReadCatalog(ctx, c, "no_such_catalog", "shop", true); err == nil ||
		!strings.Contains(err.Error(), "catalog table no_such_catalog does not exist") {
		t.Errorf("ReadCatalog of a missing table: %v", err)
	}
}

// testSystemRequests: a write recorded in its transaction is Applied; a
// failed transaction records nothing; a second record of an id fails; old
// ids are pruned.
func (s *suite) testSystemRequests(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	ctx, sys := s.sysCtx(t), s.h.Engine.System()
	if err := sys.Setup(ctx, c, "queries", ""); err != nil {
		t.Fatal(err)
	}
	s.run(t, c, s.stmt("CREATE TABLE w (id "+s.typ(Integer)+" PRIMARY KEY)"))
	applied := func(id string) bool {
		t.Helper()
		_, ok, err := sys.Applied(ctx, c, id)
		if err != nil {
			t.Fatalf("Applied(%s): %v", id, err)
		}
		return ok
	}
	if applied("req-1") {
		t.Fatal("Applied before any write")
	}
	s.run(t, c, sys.Record("req-1", 7, "h1"), s.stmt("INSERT INTO w (id) VALUES (?)", int64(1)))
	if !applied("req-1") {
		t.Fatal("not Applied after the write committed")
	}
	if _, err := c.Run(ctx, []engines.Statement{sys.Record("req-2", 7, "h2"), s.stmt("INSERT INTO w (id) VALUES (?)", int64(1))}); err == nil {
		t.Fatal("duplicate key: no error")
	}
	if applied("req-2") {
		t.Fatal("a rolled-back write is Applied")
	}
	if _, err := c.Run(ctx, []engines.Statement{sys.Record("req-1", 7, "h1"), s.stmt("INSERT INTO w (id) VALUES (?)", int64(2))}); err == nil {
		t.Fatal("a second record of req-1: no error")
	}
	if err := sys.PruneRequests(ctx, c, time.Hour); err != nil {
		t.Fatalf("PruneRequests: %v", err)
	}
	if !applied("req-1") {
		t.Fatal("PruneRequests(1h) forgot a fresh id")
	}
	// created_at may have whole seconds: poll until it is in the past.
	deadline := time.After(systemWait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for applied("req-1") {
		if err := sys.PruneRequests(ctx, c, 0); err != nil {
			t.Fatalf("PruneRequests: %v", err)
		}
		select {
		case <-deadline:
			t.Fatal("PruneRequests(0) keeps the id")
		case <-tick.C:
		}
	}
}

// testSystemRequestsOutcome: a write's outcome, computed from the result
// of its own statements by the record's Finish statement, commits with
// it and is what Applied returns; the rows are still the client
// statement's, and a rolled-back write leaves neither record nor outcome.
func (s *suite) testSystemRequestsOutcome(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	ctx, sys := s.sysCtx(t), s.h.Engine.System()
	if err := sys.Setup(ctx, c, "queries", ""); err != nil {
		t.Fatal(err)
	}
	s.run(t, c, s.stmt("CREATE TABLE w (id "+s.typ(Integer)+" PRIMARY KEY)"))
	outcome := func(res *engines.Result) []byte {
		b, _ := json.Marshal(map[string]any{"affected": res.Affected, "rows": res.RowCount})
		return b
	}
	res := s.run(t, c, sys.Record("req-o", 9, "hash-o"),
		s.stmt("INSERT INTO w (id) VALUES (?)", int64(1)),
		s.stmt("SELECT id FROM w"),
		sys.Outcome("req-o", outcome))
	if res.RowCount != 1 || string(res.Rows) != `[{"id":1}]` {
		t.Errorf("rows = %d %s, want the SELECT's [{\"id\":1}]", res.RowCount, res.Rows)
	}
	rec, ok, err := sys.Applied(ctx, c, "req-o")
	if err != nil || !ok {
		t.Fatalf("Applied(req-o) = %v, %v", ok, err)
	}
	want := engines.Recorded{Ref: 9, BodyHash: "hash-o", Outcome: []byte(`{"affected":[1,1,0],"rows":1}`)}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("Applied(req-o)\n got %+v (%s)\nwant %+v (%s)", rec, rec.Outcome, want, want.Outcome)
	}
	// The client's statement fails after the record: nothing remains.
	if _, err := c.Run(ctx, []engines.Statement{sys.Record("req-x", 9, "hash-x"),
		s.stmt("INSERT INTO w (id) VALUES (?)", int64(1)), sys.Outcome("req-x", outcome)}); err == nil {
		t.Fatal("duplicate key: no error")
	}
	if _, ok, err := sys.Applied(ctx, c, "req-x"); err != nil || ok {
		t.Fatalf("a rolled-back write: Applied = %v, %v", ok, err)
	}
	// A large outcome (a write's returned rows) is kept whole, in UTF-8.
	big := strings.Repeat("x", 100_000) + "héllo 😀 名前"
	s.run(t, c, sys.Record("req-big", 9, "hash-b"), s.stmt("INSERT INTO w (id) VALUES (?)", int64(2)),
		sys.Outcome("req-big", func(*engines.Result) []byte { return []byte(`"` + big + `"`) }))
	if rec, ok, err := sys.Applied(ctx, c, "req-big"); err != nil || !ok || string(rec.Outcome) != `"`+big+`"` {
		t.Fatalf("Applied(req-big) = %d bytes (ends %q), %v, %v; want %d", len(rec.Outcome), rec.Outcome[max(0, len(rec.Outcome)-20):], ok, err, len(big)+2)
	}
}

// testSystemRequestsMigrate: a dqm_requests made before body_hash and
// outcome existed gets them from Setup, keeps its rows, and records
// outcomes after.
func (s *suite) testSystemRequestsMigrate(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	ctx, sys := s.sysCtx(t), s.h.Engine.System()
	s.run(t, c, s.stmt("CREATE TABLE dqm_requests (request_id VARCHAR(128) NOT NULL PRIMARY KEY, ref BIGINT NOT NULL, created_at "+s.typ(Datetime)+")"))
	s.run(t, c, s.stmt("INSERT INTO dqm_requests (request_id, ref) VALUES (?, ?)", "old-1", int64(3)))
	for i := range 2 {
		if err := sys.Setup(ctx, c, "queries", ""); err != nil {
			t.Fatalf("Setup #%d over an old dqm_requests: %v", i+1, err)
		}
	}
	rec, ok, err := sys.Applied(ctx, c, "old-1")
	if err != nil || !ok || rec.Ref != 3 || rec.BodyHash != "" || rec.Outcome != nil {
		t.Fatalf("Applied(old-1) = %+v, %v, %v; want ref 3, no hash, no outcome", rec, ok, err)
	}
	s.run(t, c, s.stmt("CREATE TABLE w (id "+s.typ(Integer)+" PRIMARY KEY)"))
	s.run(t, c, sys.Record("new-1", 4, "h"), s.stmt("INSERT INTO w (id) VALUES (?)", int64(1)),
		sys.Outcome("new-1", func(*engines.Result) []byte { return []byte(`{}`) }))
	if rec, ok, err := sys.Applied(ctx, c, "new-1"); err != nil || !ok || string(rec.Outcome) != "{}" {
		t.Fatalf("Applied(new-1) = %+v, %v, %v", rec, ok, err)
	}
}

// testSystemCatalogMigrate: a catalog table made before is_direct and
// param_types existed
// is read as it is (every entry off the direct lane) when dqm does not
// manage it, and gets the column from Setup when it does.
func (s *suite) testSystemCatalogMigrate(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	ctx, sys := s.sysCtx(t), s.h.Engine.System()
	text := s.typ(String)
	s.run(t, c, s.stmt("CREATE TABLE old_queries (database_name "+text+" NOT NULL, ref "+s.typ(Integer)+" NOT NULL, name "+text+
		", description "+text+", sql_text "+text+", sql_postgres "+text+", sql_mysql "+text+", sql_sqlite "+text+", sql_db2 "+text+
		", queue "+text+", is_public "+s.typ(Boolean)+", timeout_ms "+s.typ(Integer)+", cache_ttl_s "+s.typ(Integer)+
		", tables_list "+text+", status "+text+")"))
	s.run(t, c, s.stmt("INSERT INTO old_queries (database_name, ref, name, description, sql_text, queue, is_public, timeout_ms, cache_ttl_s, tables_list, status) "+
		"VALUES ('shop', 7, 'seven', '', 'SELECT 7', 'fast', ?, 0, 0, '', 'active')", true))
	want := []engines.CatalogRow{{Ref: 7, Name: "seven", SQL: "SELECT 7", Queue: "fast", Public: true}}
	read := func(when string) {
		t.Helper()
		got, err := sys.ReadCatalog(ctx, c, "old_queries", "shop", false)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadCatalog %s: %+v, %v; want %+v", when, got, err, want)
		}
	}
	read("without is_direct")
	for i := range 2 {
		if err := sys.Setup(ctx, c, "old_queries", ""); err != nil {
			t.Fatalf("Setup #%d over an old catalog table: %v", i+1, err)
		}
	}
	read("after Setup")
	s.run(t, c, s.stmt("UPDATE old_queries SET is_direct = ?, param_types = 'X STRING' WHERE ref = 7", true))
	want[0].Direct, want[0].ParamTypes = true, map[string]string{"X": "STRING"}
	read("with is_direct and param_types set")
}

// testSystemTriggers: installed (twice), triggers record changes made
// through any connection; fetched in order, marked, pruned; removed
// (twice), nothing more is recorded. A wake-up, where the engine has one,
// follows a commit.
func (s *suite) testSystemTriggers(t *testing.T) {
	c, dsn := s.open(t, engines.Options{})
	ctx, sys := s.sysCtx(t), s.h.Engine.System()
	s.run(t, c, s.stmt("CREATE TABLE items (id "+s.typ(Integer)+" PRIMARY KEY, name "+s.typ(String)+")"))
	for range 2 {
		if err := sys.InstallTriggers(ctx, c, dsn, []string{"items"}); err != nil {
			t.Fatalf("InstallTriggers: %v", err)
		}
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	wake, err := sys.Wake(wctx, dsn)
	if err != nil {
		t.Fatalf("Wake: %v", err)
	}
	fetch := func(after int64, limit int) []engines.Event {
		t.Helper()
		evs, err := sys.FetchEvents(ctx, c, after, limit)
		if err != nil {
			t.Fatalf("FetchEvents: %v", err)
		}
		return evs
	}
	if evs := fetch(0, 10); len(evs) != 0 {
		t.Fatalf("events before any change: %v", evs)
	}
	s.run(t, c, s.stmt("INSERT INTO items (id, name) VALUES (?, ?)", int64(1), "one"))
	if wake != nil {
		select {
		case <-wake:
		case <-time.After(systemWait):
			t.Fatal("no wake-up after a commit")
		}
	}
	s.run(t, c, s.stmt("UPDATE items SET name = ? WHERE id = ?", "uno", int64(1)))
	s.run(t, c, s.stmt("DELETE FROM items WHERE id = ?", int64(1)))
	evs := fetch(0, 10)
	wantChanges(t, evs)
	if got := fetch(evs[0].Seq, 1); len(got) != 1 || got[0].Seq != evs[1].Seq {
		t.Errorf("FetchEvents(after %d, 1) = %v, want event %d", evs[0].Seq, got, evs[1].Seq)
	}
	if err := sys.MarkDelivered(ctx, c, []int64{evs[0].Seq, evs[1].Seq, evs[2].Seq}); err != nil {
		t.Fatalf("MarkDelivered: %v", err)
	}
	if got := fetch(0, 10); len(got) != 0 {
		t.Fatalf("events after MarkDelivered: %v", got)
	}
	for _, age := range []time.Duration{time.Hour, 0} {
		if err := sys.PruneEvents(ctx, c, age); err != nil {
			t.Fatalf("PruneEvents(%v): %v", age, err)
		}
	}
	for range 2 {
		if err := sys.RemoveTriggers(ctx, c, dsn, []string{"items"}); err != nil {
			t.Fatalf("RemoveTriggers: %v", err)
		}
	}
	s.run(t, c, s.stmt("INSERT INTO items (id, name) VALUES (?, ?)", int64(2), "two"))
	if got := fetch(0, 10); len(got) != 0 {
		t.Fatalf("events after RemoveTriggers: %v", got)
	}
	if wake != nil {
		stop()
		for range wake { // closed once the listener has ended
		}
	}
}

// wantChanges checks the events of item 1's insert (name one), update (to
// uno) and delete, in order.
func wantChanges(t *testing.T, evs []engines.Event) {
	t.Helper()
	var ops []string
	for i, e := range evs {
		ops = append(ops, e.Op)
		if e.Table != "items" || i > 0 && e.Seq <= evs[i-1].Seq || time.Since(e.Time).Abs() > time.Minute {
			t.Errorf("event %d: %+v: want items, increasing seq, about now", i, e)
		}
	}
	if !slices.Equal(ops, []string{"insert", "update", "delete"}) {
		t.Fatalf("ops %v, want insert update delete", ops)
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(evs[1].Data, &data); err != nil {
		t.Fatalf("data %s: %v", evs[1].Data, err)
	}
	if data["new"]["name"] != "uno" || data["old"]["name"] != "one" || data["new"]["id"] != 1.0 {
		t.Errorf("update data %s: want new uno, old one, id 1", evs[1].Data)
	}
}

package system_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

func exec(t *testing.T, db client, q string, args ...any) {
	t.Helper()
	if err := db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, db client, where string) int {
	t.Helper()
	var n int
	if err := db.Scan(context.Background(), "SELECT COUNT(*) FROM trigger_events WHERE "+where, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fetch(t *testing.T, ctx context.Context, b backend, conn engines.Conn, after int64, limit int) []engines.Event {
	t.Helper()
	evs, err := b.sys().FetchEvents(ctx, conn, after, limit)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return evs
}

func seqs(evs []engines.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

// want is an expected event: its op and data as JSON.
type want struct{ op, data string }

func checkEvents(t *testing.T, got []engines.Event, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		e := got[i]
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Errorf("event %d: seq %d after %d, want increasing", i, e.Seq, got[i-1].Seq)
		}
		if e.Table != "items" || e.Op != w.op {
			t.Errorf("event %d: table %q op %q, want items %s", i, e.Table, e.Op, w.op)
		}
		var gv, wv any
		if err := json.Unmarshal(e.Data, &gv); err != nil {
			t.Fatalf("event %d: data %s: %v", i, e.Data, err)
		}
		if err := json.Unmarshal([]byte(w.data), &wv); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gv, wv) {
			t.Errorf("event %d (%s): data\n got %s\nwant %s", i, w.op, e.Data, w.data)
		}
		if d := time.Since(e.Time); d < -time.Minute || d > time.Minute {
			t.Errorf("event %d: time %v, want about now", i, e.Time)
		}
	}
}

// TestCapture runs the whole life of change capture on every engine:
// install, changes made by another client, fetch, mark, prune, remove,
// reinstall after a new column.
func TestCapture(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, dsn, db, _ := b.open(t)
			exec(t, db, b.items)
			p := b.p

			b.install(t, ctx, conn, dsn, "items")
			b.install(t, ctx, conn, dsn, "items") // idempotent
			if evs := fetch(t, ctx, b, conn, 0, 10); len(evs) != 0 {
				t.Fatalf("events before any change: %+v", evs)
			}

			exec(t, db, "INSERT INTO items (id, name, qty, tag) VALUES (1, "+p(1)+", NULL, "+p(2)+")", "one", []byte{1, 2})
			exec(t, db, "UPDATE items SET name = "+p(1)+", qty = 5 WHERE id = 1", "uno")
			exec(t, db, "DELETE FROM items WHERE id = 1")

			evs := fetch(t, ctx, b, conn, 0, 10)
			checkEvents(t, evs,
				want{"insert", `{"new": {"id": 1, "name": "one", "qty": null, "tag": "\\x0102"}}`},
				want{"update", `{"new": {"id": 1, "name": "uno", "qty": 5, "tag": "\\x0102"},
					"old": {"id": 1, "name": "one", "qty": null, "tag": "\\x0102"}}`},
				want{"delete", `{"old": {"id": 1, "name": "uno", "qty": 5, "tag": "\\x0102"}}`})
			if got := seqs(fetch(t, ctx, b, conn, evs[0].Seq, 10)); !reflect.DeepEqual(got, seqs(evs[1:])) {
				t.Errorf("Fetch after %d = %v, want %v", evs[0].Seq, got, seqs(evs[1:]))
			}
			if got := seqs(fetch(t, ctx, b, conn, 0, 2)); !reflect.DeepEqual(got, seqs(evs[:2])) {
				t.Errorf("Fetch limit 2 = %v, want %v", got, seqs(evs[:2]))
			}

			if err := b.sys().MarkDelivered(ctx, conn, seqs(evs)); err != nil {
				t.Fatalf("MarkDelivered: %v", err)
			}
			if got := fetch(t, ctx, b, conn, 0, 10); len(got) != 0 {
				t.Fatalf("Fetch after MarkDelivered: %+v", got)
			}

			// A pending event survives every prune; delivered ones go once
			// older than the age.
			exec(t, db, "INSERT INTO items (id, name) VALUES (2, 'two')")
			if err := b.sys().PruneEvents(ctx, conn, time.Hour); err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if n := count(t, db, "1 = 1"); n != 4 {
				t.Fatalf("%d events after Prune(1h), want 4", n)
			}
			testutil.Eventually(t, 5*time.Second, "Prune(0) deletes delivered events", func() bool {
				if err := b.sys().PruneEvents(ctx, conn, 0); err != nil {
					t.Fatalf("Prune: %v", err)
				}
				return count(t, db, "1 = 1") == 1
			})
			pending := fetch(t, ctx, b, conn, 0, 10)
			checkEvents(t, pending, want{"insert", `{"new": {"id": 2, "name": "two", "qty": null, "tag": null}}`})

			// Removed, changes are no longer recorded.
			for range 2 {
				if err := b.sys().RemoveTriggers(ctx, conn, b.opts(dsn), []string{"items"}); err != nil {
					t.Fatalf("Remove: %v", err)
				}
			}
			exec(t, db, "INSERT INTO items (id, name) VALUES (3, 'three')")
			if got := fetch(t, ctx, b, conn, 0, 10); !reflect.DeepEqual(seqs(got), seqs(pending)) {
				t.Fatalf("after Remove: events %v, want %v", seqs(got), seqs(pending))
			}

			// Installed again, the triggers know a column added meanwhile.
			exec(t, db, "ALTER TABLE items ADD COLUMN note VARCHAR(20)")
			b.install(t, ctx, conn, dsn, "items")
			exec(t, db, "UPDATE items SET note = 'n' WHERE id = 3")
			checkEvents(t, fetch(t, ctx, b, conn, pending[0].Seq, 10), want{"update",
				`{"new": {"id": 3, "name": "three", "qty": null, "tag": null, "note": "n"},
				  "old": {"id": 3, "name": "three", "qty": null, "tag": null, "note": null}}`})
		})
	}
}

// TestLateCommit: an event whose transaction commits after a later one was
// fetched and marked is still delivered, once it commits.
func TestLateCommit(t *testing.T) {
	for _, b := range backends {
		if b.engine == schemas.EngineSQLite || b.name == "mysql-prepared" {
			continue // SQLite has one writer at a time: ids commit in order
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, dsn, db, connect := b.open(t)
			exec(t, db, b.items)
			b.install(t, ctx, conn, dsn, "items")

			tx := connect(t)
			exec(t, tx, "BEGIN")
			exec(t, tx, "INSERT INTO items (id, name) VALUES (10, 'late')")
			exec(t, db, "INSERT INTO items (id, name) VALUES (11, 'early')")
			early := fetch(t, ctx, b, conn, 0, 10)
			checkEvents(t, early, want{"insert", `{"new": {"id": 11, "name": "early", "qty": null, "tag": null}}`})
			if err := b.sys().MarkDelivered(ctx, conn, seqs(early)); err != nil {
				t.Fatal(err)
			}
			exec(t, tx, "COMMIT")
			late := fetch(t, ctx, b, conn, 0, 10)
			checkEvents(t, late, want{"insert", `{"new": {"id": 10, "name": "late", "qty": null, "tag": null}}`})
			if late[0].Seq >= early[0].Seq {
				t.Errorf("late event seq %d, want below %d (taken first)", late[0].Seq, early[0].Seq)
			}
		})
	}
}

// TestSchemaQualified watches a table named schema.name; the event records
// the name as configured.
func TestSchemaQualified(t *testing.T) {
	for _, b := range backends {
		if b.name == "mysql-prepared" {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, dsn, db, _ := b.open(t)
			var ns string
			switch b.engine {
			case schemas.EnginePostgres:
				db.Scan(ctx, "SELECT current_schema()", &ns)
			case schemas.EngineMySQL:
				db.Scan(ctx, "SELECT DATABASE()", &ns)
			case schemas.EngineSQLite:
				ns = "main"
			}
			exec(t, db, "CREATE TABLE "+ns+".things (id INTEGER PRIMARY KEY)")
			name := ns + ".things"
			b.install(t, ctx, conn, dsn, name)
			exec(t, db, "INSERT INTO "+name+" (id) VALUES (7)")
			evs := fetch(t, ctx, b, conn, 0, 10)
			if len(evs) != 1 || evs[0].Table != name || string(evs[0].Data) != `{"new":{"id":7}}` {
				t.Fatalf("events %+v, want one insert on %s", evs, name)
			}
			if err := b.sys().RemoveTriggers(ctx, conn, b.opts(dsn), []string{name}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInstallErrors(t *testing.T) {
	ctx := context.Background()
	b := backends[len(backends)-1] // sqlite: always there
	conn, dsn, _, _ := b.open(t)
	tests := []struct {
		name   string
		tables []string
		want   string
	}{
		{"bad table name", []string{"items; DROP TABLE x"}, "want name or schema.name"},
		{"missing table", []string{"nowhere"}, "nowhere: not found"},
		{"other SQLite database", []string{"aux.items"}, "main database only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.sys().InstallTriggers(ctx, conn, b.opts(dsn), tt.tables)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InstallTriggers = %v, want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := b.sys().FetchEvents(ctx, conn, 0, 0); err == nil {
		t.Error("Fetch limit 0: no error")
	}
	if err := b.sys().PruneEvents(ctx, conn, -time.Second); err == nil {
		t.Error("Prune negative age: no error")
	}
	if err := b.sys().MarkDelivered(ctx, conn, nil); err != nil {
		t.Errorf("MarkDelivered(nil) = %v", err)
	}
}

// TestMarkDeliveredMany crosses the chunk size of one UPDATE.
func TestMarkDeliveredMany(t *testing.T) {
	ctx := context.Background()
	b := backends[len(backends)-1]
	conn, dsn, db, _ := b.open(t)
	exec(t, db, b.items)
	b.install(t, ctx, conn, dsn, "items")
	n := 500 + 7 // past the 500 ids one UPDATE lists
	exec(t, db, `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?)
		INSERT INTO items (id, name) SELECT n, 'x' FROM s`, n)
	evs := fetch(t, ctx, b, conn, 0, 2*n)
	if len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
	if err := b.sys().MarkDelivered(ctx, conn, seqs(evs)); err != nil {
		t.Fatal(err)
	}
	if left := count(t, db, "delivered = 0"); left != 0 {
		t.Errorf("%d events left pending", left)
	}
}

func TestTriggerName(t *testing.T) {
	long := strings.Repeat("t", 63)
	tests := []struct{ base, suffix, want string }{
		{"numbers", "ins", "dqm_numbers_ins"},
		{strings.Repeat("a", 55), "del", "dqm_" + strings.Repeat("a", 55) + "_del"},
	}
	for _, tt := range tests {
		if got := system.TriggerName(tt.base, tt.suffix); got != tt.want {
			t.Errorf("system.TriggerName(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
	a, b := system.TriggerName(long, "ins"), system.TriggerName(long[:62]+"u", "ins")
	if len(a) > system.MaxTriggerName || a == b || !strings.HasSuffix(a, "_ins") {
		t.Errorf("long names %q and %q: want distinct, at most %d bytes", a, b, system.MaxTriggerName)
	}
}

// TestTriggerDDL checks every engine's ddl/triggers.sql has the sections
// the code renders (engines/db2 renders DB2's, which cannot run here).
func TestTriggerDDL(t *testing.T) {
	need := map[string][]string{
		schemas.EnginePostgres: {"events", "index", "function", "insert", "update", "delete", "drop"},
		schemas.EngineMySQL:    {"events", "value", "bytes", "insert", "update", "delete", "drop"},
		schemas.EngineSQLite:   {"events", "index", "value", "insert", "update", "delete", "drop"},
		schemas.EngineDB2:      {"events", "index", "value", "bytes", "insert", "update", "delete", "drop"},
	}
	for engine, names := range need {
		t.Run(engine, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("..", "..", engine, "ddl", "triggers.sql"))
			if err != nil {
				t.Fatal(err)
			}
			ddl := system.Sections(string(text))
			for _, n := range names {
				if s := ddl[n]; s == "" || strings.HasSuffix(s, ";") || strings.Contains(s, "\n--") {
					t.Errorf("section %q: empty, or keeps a comment or its trailing semicolon:\n%s", n, s)
				}
			}
		})
	}
}

// TestMySQLReinstallDropsNothing: triggers already as wanted are left
// alone (MySQL DDL commits as it goes, so DROP then CREATE would leave a
// gap). The DDL connection is only opened for a change, so an unusable
// DSN shows whether one was needed.
func TestMySQLReinstallDropsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := backends[1]
	conn, dsn, db, _ := b.open(t)
	exec(t, db, b.items)
	b.install(t, ctx, conn, dsn, "items")
	unusable := "mysql://nobody@127.0.0.1:1/nowhere?timeout=2s"
	if err := b.sys().InstallTriggers(ctx, conn, unusable, []string{"items"}); err != nil {
		t.Fatalf("Install with nothing to change touched the DDL connection: %v", err)
	}
	exec(t, db, "ALTER TABLE items ADD COLUMN note VARCHAR(20)")
	if err := b.sys().InstallTriggers(ctx, conn, unusable, []string{"items"}); err == nil {
		t.Fatal("Install after a new column changed nothing")
	}
	b.install(t, ctx, conn, dsn, "items")
	exec(t, db, "INSERT INTO items (id, name, note) VALUES (1, 'one', 'n')")
	checkEvents(t, fetch(t, ctx, b, conn, 0, 10),
		want{"insert", `{"new": {"id": 1, "name": "one", "qty": null, "tag": null, "note": "n"}}`})
}

// TestRemoveNothing: removing triggers that were never installed, or from
// a table that does not exist, is not an error.
func TestRemoveNothing(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, dsn, db, _ := b.open(t)
			exec(t, db, b.items)
			if err := b.sys().RemoveTriggers(ctx, conn, b.opts(dsn), []string{"items", "nowhere"}); err != nil {
				t.Fatalf("Remove: %v", err)
			}
		})
	}
}

// TestPostgresWriterNeedsNoRights: the capture function runs as its owner,
// so a role that may only write the watched table is still recorded.
func TestPostgresWriterNeedsNoRights(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := backends[0]
	conn, dsn, db, _ := b.open(t)
	exec(t, db, b.items)
	b.install(t, ctx, conn, dsn, "items")
	var schema string
	if err := db.Scan(ctx, "SELECT current_schema()", &schema); err != nil {
		t.Fatal(err)
	}
	// A password too, so the role logs in under password authentication
	// as well as trust (hex: nothing to quote).
	role, password := uniqueName("dqmt_writer_"), uniqueName("pw")
	exec(t, db, "CREATE ROLE "+role+" LOGIN PASSWORD '"+password+"'")
	t.Cleanup(func() {
		db.Exec(context.Background(), "DROP OWNED BY "+role)
		db.Exec(context.Background(), "DROP ROLE "+role)
	})
	exec(t, db, "GRANT USAGE ON SCHEMA "+schema+" TO "+role)
	exec(t, db, "GRANT INSERT ON items TO "+role)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	w, err := pgx.Connect(ctx, u.String())
	testutil.Need(t, "PostgreSQL login as a fresh role with a password", err)
	defer w.Close(ctx)
	if _, err := w.Exec(ctx, "INSERT INTO items (id, name) VALUES (1, 'one')"); err != nil {
		t.Fatalf("INSERT as a role with no rights on trigger_events: %v", err)
	}
	checkEvents(t, fetch(t, ctx, b, conn, 0, 10),
		want{"insert", `{"new": {"id": 1, "name": "one", "qty": null, "tag": null}}`})
}

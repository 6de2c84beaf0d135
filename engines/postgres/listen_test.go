package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/jackc/pgx/v5"
)

// wakeWait is the generous bound on a wake-up; the delay itself is logged.
const wakeWait = 5 * time.Second

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func awaitWake(t *testing.T, ch <-chan struct{}, what string) time.Time {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: wake-up channel closed", what)
		}
		return time.Now()
	case <-time.After(wakeWait):
		t.Fatalf("%s: no wake-up within %v", what, wakeWait)
	}
	return time.Time{}
}

func awaitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	timeout := time.After(wakeWait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("wake-up channel not closed within %v of ctx ending", wakeWait)
		}
	}
}

// TestListen: a commit wakes the listener at once; changes made while
// nobody listens are fetched later; a listener whose connection is
// killed reconnects and says so; an idle listener keeps listening.
func TestListen(t *testing.T) {
	old := listenIdle
	listenIdle = 200 * time.Millisecond // exercise the idle ping
	var pings atomic.Int32
	idlePinged = func() { pings.Add(1) }
	t.Cleanup(func() { listenIdle, idlePinged = old, nil })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, dsn, db := listenSetup(t, ctx)
	exec := func(t *testing.T, q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	app := fmt.Sprintf("dqmt_listen_%d", time.Now().UnixNano())
	ldsn := dsn + "&application_name=" + app

	lctx, stop := context.WithCancel(ctx)
	wake, err := Listen(lctx, ldsn)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { stop(); awaitClosed(t, wake) })

	t.Run("wake-up on commit", func(t *testing.T) {
		for i := range 3 {
			drain(wake)
			start := time.Now()
			exec(t, "INSERT INTO items (id, name) VALUES ($1, 'x')", 100+i)
			committed := time.Now()
			got := awaitWake(t, wake, "commit")
			t.Logf("wake-up %v after the INSERT began, %v after it returned", got.Sub(start), got.Sub(committed))
		}
	})

	t.Run("idle", func(t *testing.T) {
		// Idling is what is tested: several idle timeouts and pings pass,
		// and the connection still delivers.
		from := pings.Load()
		testutil.Eventually(t, 30*time.Second, "three idle pings", func() bool { return pings.Load() >= from+3 })
		drain(wake)
		exec(t, "INSERT INTO items (id, name) VALUES (200, 'idle')")
		awaitWake(t, wake, "after idling")
	})

	t.Run("reconnect", func(t *testing.T) {
		var pid int
		if err := db.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app).Scan(&pid); err != nil {
			t.Fatalf("listener's backend: %v", err)
		}
		drain(wake)
		exec(t, "SELECT pg_terminate_backend($1)", pid)
		awaitWake(t, wake, "reconnect")
		var again int
		testutil.Eventually(t, wakeWait, "listener back with a new backend", func() bool {
			db.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app).Scan(&again)
			return again != 0 && again != pid
		})
		drain(wake)
		exec(t, "INSERT INTO items (id, name) VALUES (300, 'after')")
		awaitWake(t, wake, "commit after reconnect")
	})

	t.Run("unheard changes are fetched later", func(t *testing.T) {
		sys := New().System()
		before, err := sys.FetchEvents(ctx, conn, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := sys.MarkDelivered(ctx, conn, seqs(before)); err != nil {
			t.Fatal(err)
		}
		stop()
		awaitClosed(t, wake)
		exec(t, "INSERT INTO items (id, name) VALUES (400, 'unheard')")
		exec(t, "UPDATE items SET qty = 1 WHERE id = 400")
		evs, err := sys.FetchEvents(ctx, conn, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Op != "insert" || evs[1].Op != "update" ||
			!strings.Contains(string(evs[1].Data), `"qty":1`) {
			t.Fatalf("events %v, want the insert and update of 400", evs)
		}
	})
}

func seqs(evs []engines.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

// listenSetup makes a schema of its own with a watched items table and
// returns a dqm connection, the DSN and a direct pgx connection to it.
func listenSetup(t *testing.T, ctx context.Context) (engines.Conn, string, *pgx.Conn) {
	t.Helper()
	base := testutil.PostgresURL(t)
	admin, err := pgx.Connect(ctx, base)
	testutil.Need(t, "PostgreSQL", err)
	schema := fmt.Sprintf("dqmt_listen_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Exec(ctx, "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INTEGER)"); err != nil {
		t.Fatal(err)
	}
	conn, err := New().Open(ctx, dsn, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := New().System().InstallTriggers(ctx, conn, dsn, []string{"items"}); err != nil {
		t.Fatal(err)
	}
	return conn, dsn, db
}

func TestListenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Listen(ctx, "postgres://u:secret@host:notaport/db"); err == nil {
		t.Error("Listen with an invalid DSN: no error")
	} else if s := err.Error(); strings.Contains(s, "secret") {
		t.Errorf("Listen error %q: want one that does not quote the password", s)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := Listen(cctx, "postgres://nobody@127.0.0.1:1/db?connect_timeout=1"); err == nil {
		t.Error("Listen with nothing to connect to: no error")
	}
}

package triggers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/testutil"
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
	t.Cleanup(func() { listenIdle = old })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := backends[0]
	conn, dsn, db, _ := b.open(t)
	exec(t, db, b.items)
	b.install(t, ctx, conn, dsn, "items")
	app := uniqueName("dqmt_listen_")
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
			exec(t, db, "INSERT INTO items (id, name) VALUES ("+b.p(1)+", 'x')", 100+i)
			committed := time.Now()
			got := awaitWake(t, wake, "commit")
			t.Logf("wake-up %v after the INSERT began, %v after it returned", got.Sub(start), got.Sub(committed))
		}
	})

	t.Run("idle", func(t *testing.T) {
		// Idling is what is tested: several idle timeouts and pings pass,
		// and the connection still delivers.
		time.Sleep(3 * listenIdle)
		drain(wake)
		exec(t, db, "INSERT INTO items (id, name) VALUES (200, 'idle')")
		awaitWake(t, wake, "after idling")
	})

	t.Run("reconnect", func(t *testing.T) {
		var pid int
		if err := db.Scan(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = '"+app+"'", &pid); err != nil {
			t.Fatalf("listener's backend: %v", err)
		}
		drain(wake)
		exec(t, db, "SELECT pg_terminate_backend("+b.p(1)+")", pid)
		awaitWake(t, wake, "reconnect")
		var again int
		testutil.Eventually(t, wakeWait, "listener back with a new backend", func() bool {
			db.Scan(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = '"+app+"'", &again)
			return again != 0 && again != pid
		})
		drain(wake)
		exec(t, db, "INSERT INTO items (id, name) VALUES (300, 'after')")
		awaitWake(t, wake, "commit after reconnect")
	})

	t.Run("unheard changes are fetched later", func(t *testing.T) {
		before := fetch(t, ctx, conn, Postgres, 0, 100)
		if err := MarkDelivered(ctx, conn, Postgres, seqs(before)); err != nil {
			t.Fatal(err)
		}
		stop()
		awaitClosed(t, wake)
		exec(t, db, "INSERT INTO items (id, name) VALUES (400, 'unheard')")
		exec(t, db, "UPDATE items SET qty = 1 WHERE id = 400")
		checkEvents(t, fetch(t, ctx, conn, Postgres, 0, 100),
			want{"insert", `{"new": {"id": 400, "name": "unheard", "qty": null, "tag": null}}`},
			want{"update", `{"new": {"id": 400, "name": "unheard", "qty": 1, "tag": null},
				"old": {"id": 400, "name": "unheard", "qty": null, "tag": null}}`})
	})
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

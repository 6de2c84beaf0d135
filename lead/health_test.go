package lead

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/backoff"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/testutil"
)

// fakeTables counts EnsureTables and serves entries from ReadCatalog.
type fakeTables struct {
	mu      sync.Mutex
	ensured int
	entries []catalog.Entry
	reads   int
}

func (f *fakeTables) EnsureTables(context.Context, engines.Conn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ensured++
	return nil
}

func (f *fakeTables) ReadCatalog(context.Context, engines.Conn, string, string, bool) ([]catalog.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.entries, nil
}

func (f *fakeTables) set(es []catalog.Entry) { f.mu.Lock(); f.entries = es; f.mu.Unlock() }

func (f *fakeTables) count() (ensured, reads int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ensured, f.reads
}

// TestHealth: the connection is retried until it opens, made ready (dqm's
// tables) before anyone can borrow it, pinged, and replaced when a ping
// fails; the state follows.
func TestHealth(t *testing.T) {
	var fails atomic.Int32
	fails.Store(2)
	var opened []*fakeConn
	var mu sync.Mutex
	tables := &fakeTables{}
	var state atomic.Value
	state.Store(StateConnecting)
	var oks, errs atomic.Int32
	h := &health{
		open: func(context.Context) (engines.Conn, error) {
			if fails.Add(-1) >= 0 {
				return nil, errors.New("refused")
			}
			c := &fakeConn{}
			mu.Lock()
			opened = append(opened, c)
			mu.Unlock()
			return c, nil
		},
		tables: tables, conn: &connHolder{}, every: 5 * time.Millisecond,
		backoff: backoff.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond},
		state:   func(s string) { state.Store(s) },
		checked: func(ok bool) {
			if ok {
				oks.Add(1)
			} else {
				errs.Add(1)
			}
		},
		log: quiet(),
	}
	connCh := h.conn.changed()
	runJob(t, h)
	<-connCh
	if ensured, _ := tables.count(); ensured != 1 {
		t.Fatalf("tables ensured %d times before the connection was shared", ensured)
	}
	if errs.Load() != 2 {
		t.Fatalf("%d failed attempts, want 2", errs.Load())
	}
	testutil.Eventually(t, 5*time.Second, "pinged and CONNECTED", func() bool {
		return oks.Load() >= 3 && state.Load() == StateConnected
	})
	first := h.conn.current()

	mu.Lock()
	opened[0].down.Store(true)
	mu.Unlock()
	testutil.Eventually(t, 5*time.Second, "reconnected", func() bool {
		gen := h.conn.current()
		return gen != 0 && gen != first
	})
	mu.Lock()
	defer mu.Unlock()
	if !opened[0].closed.Load() || len(opened) != 2 {
		t.Fatalf("the dead connection is not closed and replaced: closed %v, %d opened", opened[0].closed.Load(), len(opened))
	}
	if ensured, _ := tables.count(); ensured != 2 {
		t.Fatalf("tables ensured %d times for 2 connections", ensured)
	}
}

// TestConnLostByBorrower: a job that finds the connection dead drops it
// (and closes it) through use, and the health job opens a new one at
// once, long before its next ping.
func TestConnLostByBorrower(t *testing.T) {
	var opens atomic.Int32
	hold := &connHolder{}
	h := &health{
		open:   func(context.Context) (engines.Conn, error) { opens.Add(1); return &fakeConn{}, nil },
		tables: &fakeTables{}, conn: hold, every: time.Hour,
		backoff: backoff.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond},
		state:   func(string) {}, checked: func(bool) {}, log: quiet(),
	}
	runJob(t, h)
	testutil.Eventually(t, 5*time.Second, "connected", func() bool { return hold.current() != 0 })
	var dead engines.Conn
	lost := &engines.DatabaseError{Message: "gone", Err: engines.ErrConnLost}
	if err := hold.use(func(c engines.Conn) error { dead = c; return lost }); !errors.Is(err, engines.ErrConnLost) {
		t.Fatalf("use: %v", err)
	}
	if !dead.(*fakeConn).closed.Load() {
		t.Error("the dead connection was not closed")
	}
	testutil.Eventually(t, 5*time.Second, "reconnected without waiting for the hourly ping", func() bool {
		return opens.Load() == 2 && hold.current() != 0
	})
	// A statement's own error keeps the connection.
	gen := hold.current()
	hold.use(func(engines.Conn) error { return errors.New("syntax") })
	if hold.current() != gen {
		t.Error("a statement error dropped the connection")
	}
}

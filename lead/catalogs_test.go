package lead

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
)

// fakeEngine names an engine for the catalog compiler; it opens nothing.
type fakeEngine struct{ engines.Engine }

func (fakeEngine) Name() string                    { return "sqlite" }
func (fakeEngine) Style() engines.PlaceholderStyle { return engines.Question }

func entry(ref int64, sql string) catalog.Entry {
	return catalog.Entry{Ref: ref, Name: fmt.Sprint("q", ref), SQL: sql, Queue: "fast"}
}

type reloaderTest struct {
	r      *catalogReloader
	tables *fakeTables
	kv     *fakeKV
	leader *leaderState
	conn   *connHolder
	cat    *atomic.Pointer[catalog.Catalog]
	mu     sync.Mutex
	told   [][]int64
}

func newReloaderTest(t *testing.T) *reloaderTest {
	t.Helper()
	db := &config.Database{Name: "shop", Catalog: config.Catalog{Table: "queries"}}
	rt := &reloaderTest{tables: &fakeTables{}, kv: newFakeKV(), leader: &leaderState{}, cat: &atomic.Pointer[catalog.Catalog]{}}
	rt.conn = &connHolder{}
	loader := &catalogLoader{db: db, engine: fakeEngine{}, tables: rt.tables}
	rt.r = &catalogReloader{
		db: "shop", loader: loader, conn: rt.conn, leader: rt.leader, current: rt.cat, kv: rt.kv,
		onChange: func(_ string, refs []int64) { rt.mu.Lock(); rt.told = append(rt.told, refs); rt.mu.Unlock() },
		reload:   make(chan struct{}, 1), every: 10 * time.Millisecond, log: quiet(),
	}
	return rt
}

// TestCatalogReloader: the catalog loads on the first connection; KV
// dqm_catalog gets it when the instance takes the lease, though it was
// loaded before; a reload publishes the change and deletes a removed
// ref; a stale key from an earlier Lead is deleted on taking the lease.
func TestCatalogReloader(t *testing.T) {
	rt := newReloaderTest(t)
	rt.tables.set([]catalog.Entry{entry(1, "SELECT 1"), entry(2, "SELECT 2")})
	rt.kv.Put(context.Background(), "shop.99", []byte(`{}`)) // an earlier Lead's
	rt.kv.Put(context.Background(), "other.1", []byte(`{}`))
	runJob(t, rt.r)
	rt.conn.set(&fakeConn{})
	testutil.Eventually(t, 5*time.Second, "loaded", func() bool { return rt.cat.Load() != nil && rt.cat.Load().Len() == 2 })
	if got := fmt.Sprint(rt.kv.keys()); got != "[other.1 shop.99]" {
		t.Fatalf("published without the lease: %s", got)
	}

	rt.leader.set(true)
	testutil.Eventually(t, 5*time.Second, "published on taking the lease", func() bool {
		return fmt.Sprint(rt.kv.keys()) == "[other.1 shop.1 shop.2]"
	})

	rt.tables.set([]catalog.Entry{entry(1, "SELECT 10"), entry(3, "SELECT 3")})
	rt.r.reload <- struct{}{}
	testutil.Eventually(t, 5*time.Second, "change published", func() bool {
		return fmt.Sprint(rt.kv.keys()) == "[other.1 shop.1 shop.3]" && strings.Contains(rt.kv.get("shop.1"), "SELECT 10")
	})
	rt.mu.Lock()
	told := fmt.Sprint(rt.told)
	rt.mu.Unlock()
	if told != "[[1 2 3]]" {
		t.Fatalf("cache told %s, want [[1 2 3]]", told)
	}
}

// TestCatalogReloaderNewConnection: a new connection reloads the catalog;
// without a connection nothing is read.
func TestCatalogReloaderNewConnection(t *testing.T) {
	rt := newReloaderTest(t)
	rt.tables.set([]catalog.Entry{entry(1, "SELECT 1")})
	rt.r.step(context.Background())
	if _, reads := rt.tables.count(); reads != 0 || rt.cat.Load() != nil {
		t.Fatal("read without a connection")
	}
	rt.conn.set(&fakeConn{})
	rt.r.step(context.Background())
	rt.r.step(context.Background())
	if _, reads := rt.tables.count(); reads != 1 {
		t.Fatalf("%d reads on one connection", reads)
	}
	rt.conn.set(&fakeConn{})
	rt.r.step(context.Background())
	if _, reads := rt.tables.count(); reads != 2 {
		t.Fatalf("%d reads after a reconnect", reads)
	}
}

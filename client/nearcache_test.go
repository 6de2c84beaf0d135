package client_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	_ "github.com/dqmhq/dqm/engines/sqlite" // the shop database
	"github.com/dqmhq/dqm/internal/clientlink"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

const watermark = 200 * time.Millisecond

// shop runs one instance serving SQLite database "shop" (table items
// watched by triggers, polled every 50 ms; ref 1 a cache-tag read of it,
// ref 2 a write) on its own NATS, with a watermark every 200 ms. It
// returns the NATS server and a direct connection to the database.
func shop(t *testing.T) (*server.Server, *natsserver.Server, *sql.DB) {
	t.Helper()
	ns := testutil.NATS(t)
	dir := t.TempDir()
	dsn := filepath.Join(dir, "shop.db")
	direct := testutil.DirectDB(t, "sqlite", dsn)
	for _, stmt := range []string{
		"CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)",
		"INSERT INTO items (id, v) VALUES (1, 0)",
	} {
		if _, err := direct.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	catalogFile := filepath.Join(dir, "catalog.json")
	os.WriteFile(catalogFile, []byte(`[
	 {"ref":1,"name":"item","sql":"SELECT v FROM items WHERE id = :ID","queue":"cache","public":true,"cache_ttl_s":300},
	 {"ref":2,"name":"set item","sql":"UPDATE items SET v = :V WHERE id = :ID","queue":"fast","public":true},
	 {"ref":3,"name":"item, not cached","sql":"SELECT v FROM items WHERE id = :ID","queue":"fast","public":true}]`), 0o644)
	cfg := config.Demo()
	cfg.NATS.URL = ns.ClientURL()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Cache.WatermarkMS = int(watermark.Milliseconds())
	db := *cfg.Databases["demo"]
	db.Name, db.Engine, db.DSN = "shop", "sqlite", config.DSN(dsn)
	db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: catalogFile}
	db.Triggers = config.Triggers{Tables: []string{"items"}, PollMS: 50}
	cfg.Databases = map[string]*config.Database{"shop": &db}
	s, err := server.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	testutil.Eventually(t, 15*time.Second, "ready", s.Ready)
	testutil.Eventually(t, 10*time.Second, "capturing", s.Lead("shop").Capturing)
	return s, ns, direct
}

func item(id int) schemas.Params {
	return schemas.Params{"INTEGER": {"ID": json.RawMessage(strconv.Itoa(id))}}
}

// readItem reads item 1 through c with opts, failing the test on an error.
func readItem(t *testing.T, c *client.Client, ref int64, opts ...client.QueryOption) (v float64, cached bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Query(ctx, "shop", ref, item(1), opts...)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var rows []struct{ V float64 }
	if err := json.Unmarshal(res.Rows, &rows); err != nil || len(rows) != 1 {
		t.Fatalf("rows %s: %v", res.Rows, err)
	}
	return rows[0].V, res.Cached
}

// TestNearCacheNoticesLostInvalidations: the near-cache's subscription
// loses every second invalidation of table items (the test hook, as a
// slow consumer would). After each UPDATE behind dqm's back, whether its
// invalidation arrived or not, the cache is empty for shop within one
// watermark interval, and the next read is fresh from the database.
func TestNearCacheNoticesLostInvalidations(t *testing.T) {
	_, ns, direct := shop(t)
	var count atomic.Int64
	var lostAt atomic.Int64 // when the last invalidation was discarded, unix ns
	discard := func(m *nats.Msg) bool {
		if m.Subject != schemas.InvalidateSubject("shop", "items") || count.Add(1)%2 != 0 {
			return false
		}
		lostAt.Store(time.Now().UnixNano())
		return true
	}
	near := client.NewCache(0, 0)
	var mu sync.Mutex
	var drops []time.Time // when the cache dropped shop
	clientlink.Cache(near).OnEvent = func(db, ev string) {
		if db == "shop" && ev == "drop" {
			mu.Lock()
			drops = append(drops, time.Now())
			mu.Unlock()
		}
	}
	c, err := client.New(testutil.Connect(t, ns), client.WithCache(near), client.WithDroppedInvalidations(discard))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := []client.QueryOption{client.Queue("cache"), client.CacheFor(time.Minute), client.Tables("items")}
	var windows []time.Duration
	for i := 1; i <= 8; i++ {
		testutil.Eventually(t, 5*time.Second, "cached", func() bool {
			readItem(t, c, 1, opts...)
			_, cached := readItem(t, c, 1, opts...)
			return cached
		})
		committed := time.Now()
		if _, err := direct.Exec("UPDATE items SET v = ? WHERE id = 1", i); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, "shop dropped from the near-cache", func() bool { return clientlink.Cache(near).Len("shop") == 0 })
		if v, cached := readItem(t, c, 1, opts...); v != float64(i) || cached {
			t.Fatalf("write %d: read %v cached=%v", i, v, cached)
		}
		if lost := time.Unix(0, lostAt.Load()); lost.After(committed) {
			mu.Lock()
			at := drops[len(drops)-1]
			mu.Unlock()
			windows = append(windows, at.Sub(lost))
		}
	}
	if len(windows) < 3 {
		t.Fatalf("only %d invalidations lost", len(windows))
	}
	slices.Sort(windows)
	t.Logf("%d of 8 invalidations lost; lost → dropped: min %v max %v (watermark every %v)",
		len(windows), windows[0].Round(time.Millisecond), windows[len(windows)-1].Round(time.Millisecond), watermark)
	// The next watermark (at most one interval later) shows the gap; the
	// slack is for a loaded machine.
	if worst := windows[len(windows)-1]; worst > watermark+300*time.Millisecond {
		t.Errorf("a lost invalidation was noticed %v later (bound %v)", worst, watermark)
	}
}

// TestNearCacheFromCatalog: a client given only WithCache learns from KV
// dqm_catalog that ref 1 is a cache-tag entry on table items (its tables
// found in its SQL) and caches it; ref 3, a fast entry, is not cached. An
// UPDATE behind dqm's back reaches the near-cache through the trigger
// path, and a write through dqm drops the writer's entries before Query
// returns, both with no Tables option.
func TestNearCacheFromCatalog(t *testing.T) {
	_, ns, direct := shop(t)
	near := client.NewCache(0, 0)
	c, err := client.New(testutil.Connect(t, ns), client.WithCache(near))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Filling waits for a hit: the start's own invalidations (the trigger
	// path catching up, a first watermark) may empty a fresh entry.
	fill := func() {
		testutil.Eventually(t, 5*time.Second, "cached from the catalog's rule", func() bool {
			readItem(t, c, 1)
			_, cached := readItem(t, c, 1)
			return cached
		})
	}
	fill()
	if _, cached := readItem(t, c, 3); cached {
		t.Fatal("a fast entry was cached")
	}
	if _, cached := readItem(t, c, 3); cached {
		t.Fatal("a fast entry was cached")
	}
	for i := 1; i <= 5; i++ {
		committed := time.Now()
		if _, err := direct.Exec("UPDATE items SET v = ? WHERE id = 1", i); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, "the update seen", func() bool {
			v, _ := readItem(t, c, 1)
			return v == float64(i)
		})
		t.Logf("update %d: fresh after %v", i, time.Since(committed).Round(time.Millisecond))
		fill()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := schemas.Params{"INTEGER": {"ID": json.RawMessage("1"), "V": json.RawMessage("42")}}
	if _, err := c.Query(ctx, "shop", 2, p, client.Queue("fast")); err != nil {
		t.Fatal(err)
	}
	if v, cached := readItem(t, c, 1); v != 42 || cached {
		t.Fatalf("after the client's own write: %v cached=%v", v, cached)
	}
	// The entry changes in KV (as a catalog reload publishes it): its
	// cached results go, and its new rule (no TTL) applies.
	fill()
	js, err := jetstream.New(testutil.Connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, schemas.BucketCatalog)
	if err != nil {
		t.Fatal(err)
	}
	entry := `{"ref":1,"name":"item","sql":"SELECT v FROM items WHERE id = :ID","queue":"fast","public":true,"tables":["items"]}`
	if _, err := kv.Put(ctx, "shop.1", []byte(entry)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the changed entry's results dropped", func() bool { return clientlink.Cache(near).Len("shop") == 0 })
	readItem(t, c, 1)
	if _, cached := readItem(t, c, 1); cached {
		t.Fatal("cached after its entry left the cache queue")
	}
}

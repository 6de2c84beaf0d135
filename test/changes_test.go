package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// backends are the engines the change tests run on, each with a scratch
// database of its own.
var backends = []struct {
	engine string
	dsn    func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string {
		return filepath.Join(t.(interface{ TempDir() string }).TempDir(), "shop.db")
	}},
	{"postgres", testutil.PostgresSchema},
	{"mysql", testutil.MySQLDatabase},
}

// shopConfig is one database "shop" on engine with an items table watched
// by triggers and a cached query on it.
func shopConfig(t *testing.T, engine, dsn string, pollMS int) *config.Config {
	t.Helper()
	direct := testutil.DirectDB(t, engine, dsn)
	for _, stmt := range []string{
		"CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)",
		"INSERT INTO items (id, v) VALUES (1, 0)",
	} {
		if _, err := direct.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	catalogFile := filepath.Join(t.TempDir(), "catalog.json")
	os.WriteFile(catalogFile, []byte(`[
	 {"ref":1,"name":"item","sql":"SELECT v FROM items WHERE id = :ID","queue":"cache","public":true,"cache_ttl_s":300,"tables":["items"]},
	 {"ref":2,"name":"set item","sql":"UPDATE items SET v = :V WHERE id = :ID","queue":"fast","public":true,"tables":["items"]}]`), 0o644)
	cfg := testConfig(t)
	shop := *cfg.Databases["demo"]
	shop.Name, shop.Engine, shop.DSN = "shop", engine, config.DSN(dsn)
	shop.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: catalogFile}
	shop.Triggers = config.Triggers{Tables: []string{"items"}, PollMS: pollMS}
	cfg.Databases = map[string]*config.Database{"shop": &shop}
	return cfg
}

func readItem(t *testing.T, s *server.Server) (v float64, cached bool) {
	t.Helper()
	status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":1,"database":"shop","params":{"INTEGER":{"ID":1}}}`)
	if status != 200 || body["success"] != true {
		t.Fatalf("read: %d %v", status, body)
	}
	return body["rows"].([]any)[0].(map[string]any)["v"].(float64), body["cached"].(bool)
}

// TestInvalidationLatency, per engine: a cached read, then UPDATEs through
// a direct driver connection (not dqm). After each, the invalidation
// arrives and the next read returns the new value. The delay from commit
// to invalidation is measured.
func TestInvalidationLatency(t *testing.T) {
	writes := 200
	if testing.Short() {
		writes = 20
	}
	for _, b := range backends {
		t.Run(b.engine, func(t *testing.T) {
			dsn := b.dsn(t)
			// PostgreSQL polls only every second here, so its latency shows
			// the NOTIFY wake-up, not polling.
			poll := map[bool]int{true: 1000, false: 50}[b.engine == "postgres"]
			cfg := shopConfig(t, b.engine, dsn, poll)
			s := start(t, cfg)
			testutil.Eventually(t, 5*time.Second, "lead", s.Lead("shop").IsLeader)
			direct := testutil.DirectDB(t, b.engine, dsn)
			inv := make(chan time.Time, 16)
			sub, _ := s.NATS().Subscribe(schemas.InvalidateSubject("shop", "items"), func(m *nats.Msg) {
				var i schemas.Invalidation
				if json.Unmarshal(m.Data, &i) == nil && i.SequenceID > 0 {
					inv <- time.Now()
				}
			})
			defer sub.Unsubscribe()
			// Triggers are installed when the Lead takes the lease: wait for
			// a first change to come through.
			testutil.Eventually(t, 10*time.Second, "trigger path live", func() bool {
				direct.Exec("UPDATE items SET v = 0 WHERE id = 1")
				select {
				case <-inv:
					return true
				case <-time.After(200 * time.Millisecond):
					return false
				}
			})
			var lat []time.Duration
			for i := 1; i <= writes; i++ {
				if _, cached := readItem(t, s); i > 1 && !cached {
					t.Fatalf("write %d: read before the write was not cached", i)
				}
				for len(inv) > 0 { // events of earlier writes, e.g. the warm-up's
					<-inv
				}
				seen := s.Cache().Stats().Invalidations
				if _, err := direct.Exec("UPDATE items SET v = ? WHERE id = 1", i); err != nil {
					if _, err = direct.Exec("UPDATE items SET v = $1 WHERE id = 1", i); err != nil {
						t.Fatal(err)
					}
				}
				committed := time.Now()
				select {
				case at := <-inv:
					lat = append(lat, at.Sub(committed))
				case <-time.After(10 * time.Second):
					t.Fatalf("write %d: no invalidation", i)
				}
				testutil.Eventually(t, 5*time.Second, "the instance cache saw it", func() bool {
					return s.Cache().Stats().Invalidations > seen
				})
				if v, cached := readItem(t, s); v != float64(i) || cached {
					t.Fatalf("write %d: read %v (cached %v) after its invalidation", i, v, cached)
				}
			}
			slices.Sort(lat)
			p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))].Round(10 * time.Microsecond) }
			t.Logf("%s commit→invalidation over %d writes (poll %d ms): p50 %v p99 %v max %v",
				b.engine, len(lat), poll, p(0.5), p(0.99), lat[len(lat)-1].Round(10*time.Microsecond))
			// Not a performance threshold: a median beyond these means the
			// wake-up path is broken (PostgreSQL falling back to its 1 s
			// poll, or polling not honouring poll_ms).
			if limit := time.Duration(poll+100) * time.Millisecond; b.engine == "postgres" && p(0.5) > 100*time.Millisecond || p(0.5) > limit {
				t.Errorf("median commit→invalidation %v", p(0.5))
			}
		})
	}
}

// TestChangesAcrossRestart: changes made while dqm is down are published
// on start, each exactly once, in sequence order.
func TestChangesAcrossRestart(t *testing.T) {
	for _, b := range backends {
		t.Run(b.engine, func(t *testing.T) {
			ns := testutil.NATS(t)
			dsn := b.dsn(t)
			cfg := shopConfig(t, b.engine, dsn, 50)
			cfg.NATS.URL = ns.ClientURL()
			direct := testutil.DirectDB(t, b.engine, dsn)
			ph := map[bool]string{true: "$1", false: "?"}[b.engine == "postgres"]
			write := func(id int) {
				if _, err := direct.Exec("INSERT INTO items (id, v) VALUES ("+ph+", 0)", id); err != nil {
					t.Fatal(err)
				}
			}
			a := start(t, cfg)
			testutil.Eventually(t, 10*time.Second, "capturing", a.Lead("shop").Capturing)
			nc := testutil.Connect(t, ns)
			js, _ := jetstream.New(nc)
			ctx := context.Background()
			count := func() uint64 {
				info, err := js.Stream(ctx, schemas.ChangesStream)
				if err != nil {
					return 0
				}
				i, _ := info.Info(ctx)
				return i.State.Msgs
			}
			write(100)
			testutil.Eventually(t, 10*time.Second, "first change published", func() bool { return count() >= 1 })
			a.Shutdown(ctx)
			for id := 101; id <= 105; id++ {
				write(id)
			}
			cfg2 := *cfg
			cfg2.HTTP.Listen = "127.0.0.1:0"
			start(t, &cfg2)
			testutil.Eventually(t, 10*time.Second, "changes made while down published", func() bool { return count() >= 6 })
			cons, err := js.OrderedConsumer(ctx, schemas.ChangesStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"dqm.shop.changes.items.>"}})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			var ids []int
			var last int64
			for m := range batch.Messages() {
				var c schemas.Change
				json.Unmarshal(m.Data(), &c)
				if c.SequenceID <= last {
					t.Errorf("sequence %d after %d", c.SequenceID, last)
				}
				last = c.SequenceID
				if m.Headers().Get("ce-type") != schemas.TypeChange || m.Subject() != "dqm.shop.changes.items.insert" {
					t.Errorf("event %s %v", m.Subject(), m.Headers())
				}
				var d struct{ New struct{ ID int } }
				json.Unmarshal(c.Data, &d)
				ids = append(ids, d.New.ID)
			}
			if fmt.Sprint(ids) != "[100 101 102 103 104 105]" {
				t.Fatalf("events for ids %v, want each of 100..105 once, in order", ids)
			}
		})
	}
}

// TestInvalidationReachesEveryInstance: two instances with filled caches;
// a write through one and a write behind dqm's back each empty both.
func TestInvalidationReachesEveryInstance(t *testing.T) {
	ns := testutil.NATS(t)
	dsn := filepath.Join(t.TempDir(), "shop.db")
	cfg := shopConfig(t, "sqlite", dsn, 50)
	cfg.NATS.URL = ns.ClientURL()
	a := start(t, cfg)
	cfgB := *cfg
	cfgB.HTTP.Listen = "127.0.0.1:0"
	b := start(t, &cfgB)
	testutil.Eventually(t, 10*time.Second, "capturing", func() bool { return a.Lead("shop").Capturing() || b.Lead("shop").Capturing() })
	// Filling waits until a read is a hit: an invalidation already in
	// flight when the test starts (the trigger path catching up after
	// capture began) may empty a cache that was just filled.
	fill := func() {
		for _, s := range []*server.Server{a, b} {
			testutil.Eventually(t, 5*time.Second, "cached", func() bool {
				readItem(t, s)
				_, cached := readItem(t, s)
				return cached
			})
		}
	}
	fill()
	// A write through b (a dqm write invalidates before its reply).
	status, body, _ := call(t, b, "POST", "/api/conduit/query", `{"query_ref":2,"database":"shop","params":{"INTEGER":{"ID":1,"V":7}}}`)
	if status != 200 || fmt.Sprint(body["affected_rows"]) != "[1]" {
		t.Fatalf("write: %d %v", status, body)
	}
	if v, cached := readItem(t, b); v != 7 || cached {
		t.Fatalf("writer's instance read %v cached=%v", v, cached)
	}
	testutil.Eventually(t, 5*time.Second, "a's cache emptied", func() bool { return a.Cache().Len("shop") == 0 })
	if v, _ := readItem(t, a); v != 7 {
		t.Fatalf("other instance read %v", v)
	}
	fill()
	// A write behind dqm's back, through the trigger path.
	testutil.DirectDB(t, "sqlite", dsn).Exec("UPDATE items SET v = 8 WHERE id = 1")
	testutil.Eventually(t, 5*time.Second, "both caches emptied", func() bool {
		return a.Cache().Len("shop") == 0 && b.Cache().Len("shop") == 0
	})
	for _, s := range []*server.Server{a, b} {
		if v, _ := readItem(t, s); v != 8 {
			t.Fatalf("read %v after the trigger", v)
		}
	}
}

// TestCatalogHotReload: a row added to or changed in the queries table
// reloads the catalog on every instance, and the changed ref's cached
// results are dropped.
func TestCatalogHotReload(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "shop.db")
	cfg := shopConfig(t, "sqlite", dsn, 50)
	s := start(t, cfg)
	testutil.Eventually(t, 10*time.Second, "capturing", s.Lead("shop").Capturing)
	direct := testutil.DirectDB(t, "sqlite", dsn)
	if _, err := direct.Exec(`INSERT INTO queries (ref, name, sql_text, queue, is_public, cache_ttl_s, tables_list)
		VALUES (9, 'doubled', 'SELECT v * 2 AS d FROM items WHERE id = 1', 'cache', 1, 300, 'items')`); err != nil {
		t.Fatal(err)
	}
	q := `{"query_ref":9,"database":"shop"}`
	testutil.Eventually(t, 10*time.Second, "ref 9 loaded", func() bool {
		_, body, _ := call(t, s, "POST", "/api/conduit/query", q)
		return body["success"] == true
	})
	_, body, _ := call(t, s, "POST", "/api/conduit/query", q)
	if body["cached"] != true {
		t.Fatalf("second read not cached: %v", body)
	}
	direct.Exec(`UPDATE queries SET sql_text = 'SELECT v * 3 AS t FROM items WHERE id = 1' WHERE ref = 9`)
	testutil.Eventually(t, 10*time.Second, "ref 9 changed", func() bool {
		_, body, _ := call(t, s, "POST", "/api/conduit/query", q)
		return strings.Contains(fmt.Sprint(body["rows"]), "t:")
	})
	kv, err := jetstreamKV(t, s, schemas.BucketCatalog)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "catalog in KV", func() bool {
		e, err := kv.Get(context.Background(), "shop.9")
		return err == nil && strings.Contains(string(e.Value()), "v * 3")
	})
}

// TestHostCatalog: a database whose catalog lives in another database's
// queries table (tier 2), reloaded when that table changes.
func TestHostCatalog(t *testing.T) {
	dir := t.TempDir()
	hub, spoke := filepath.Join(dir, "hub.db"), filepath.Join(dir, "spoke.db")
	cfg := testConfig(t)
	base := *cfg.Databases["demo"]
	base.Catalog.File = ""
	base.Triggers = config.Triggers{PollMS: 50}
	h, sp := base, base
	h.Name, h.DSN = "hub", config.DSN(hub)
	sp.Name, sp.DSN = "spoke", config.DSN(spoke)
	sp.Catalog = config.Catalog{Table: "queries", ManageTables: true, Host: "hub"}
	cfg.Databases = map[string]*config.Database{"hub": &h, "spoke": &sp}
	s := start(t, cfg)
	testutil.Eventually(t, 10*time.Second, "hub capturing", s.Lead("hub").Capturing)
	direct := testutil.DirectDB(t, "sqlite", hub)
	if _, err := direct.Exec(`INSERT INTO queries (database_name, ref, name, sql_text, queue, is_public)
		VALUES ('spoke', 7, 'answer', 'SELECT 42 AS answer', 'fast', 1)`); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "spoke ref 7 from the hub", func() bool {
		_, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":7,"database":"spoke"}`)
		return strings.Contains(fmt.Sprint(body["rows"]), "answer:42")
	})
	// The hub's own catalog does not get the spoke's entry.
	_, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":7,"database":"hub"}`)
	if body["error"] != "query_not_found" {
		t.Fatalf("hub ref 7: %v", body)
	}
}

func jetstreamKV(t *testing.T, s *server.Server, bucket string) (jetstream.KeyValue, error) {
	t.Helper()
	js, err := jetstream.New(s.NATS())
	if err != nil {
		return nil, err
	}
	return js.KeyValue(context.Background(), bucket)
}

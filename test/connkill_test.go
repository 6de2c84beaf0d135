package test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestConnectionKillMidLoad: the database kills every connection dqm holds,
// twice, while 16 clients send a mix of reads and INSERTs. Reads are
// answered without an error (a read that found its connection dead runs
// again on a fresh one); a write that could not be answered is retried by
// its client with the same request id; afterwards every write is in the
// table exactly once.
func TestConnectionKillMidLoad(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) { connectionKill(t, engine) })
	}
}

func connectionKill(t *testing.T, engine string) {
	var dsn string
	var kill func() int
	switch engine {
	case "postgres":
		dsn = testutil.PostgresSchema(t)
	case "mysql":
		dsn = testutil.MySQLDatabase(t)
	}
	direct := testutil.DirectDB(t, engine, dsn)
	if _, err := direct.Exec("CREATE TABLE kills (id INTEGER NOT NULL, v INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	db := *cfg.Databases["demo"]
	catalogFile := filepath.Join(t.TempDir(), "kills.json")
	entries := `[{"ref": 1, "name": "count", "sql": "SELECT COUNT(*) AS n FROM kills", "queue": "fast", "public": true},
		{"ref": 2, "name": "add", "sql": "INSERT INTO kills (id, v) VALUES (:ID, 1)", "queue": "fast", "public": true}]`
	if err := os.WriteFile(catalogFile, []byte(entries), 0o644); err != nil {
		t.Fatal(err)
	}
	db.Name, db.Engine, db.DSN = "kdb", engine, config.DSN(dsn)
	db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: catalogFile}
	db.Triggers = config.Triggers{PollMS: 1000}
	db.Queues = map[string]config.Queue{schemas.TagFast: {Min: 4, Max: 4}}
	db.HeartbeatS = 1
	cfg.Databases = map[string]*config.Database{"kdb": &db}
	s := start(t, cfg)

	switch engine {
	case "postgres":
		// Every connection of this instance names it (application_name).
		kill = func() int {
			var n int
			direct.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name LIKE $1`, "dqm "+s.Instance()+"%").Scan(&n)
			return n
		}
	case "mysql":
		kill = func() int {
			rows, err := direct.Query("SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()")
			if err != nil {
				t.Error(err)
				return 0
			}
			var ids []int64
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				direct.Exec("KILL CONNECTION " + strconv.FormatInt(id, 10))
			}
			return len(ids)
		}
	}

	total := 2000
	if testutil.InCI() {
		total = 400
	}
	var (
		next                       atomic.Int64
		readErrs, writeRetries, ok atomic.Int64
		mu                         sync.Mutex
		codes                      = map[string]int{}
		wg                         sync.WaitGroup
		killed                     = make(chan int, 2)
		sent                       atomic.Int64
		firstKill, secondKill      = int64(total / 4), int64(total / 2)
	)
	count := func(code schemas.Code) {
		mu.Lock()
		codes[string(code)]++
		mu.Unlock()
	}
	c := s.Client()
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(total) {
					return
				}
				if i == firstKill || i == secondKill {
					killed <- kill()
				}
				sent.Add(1)
				if i%2 == 0 {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := c.Query(ctx, "kdb", 1, nil, client.Queue(schemas.TagFast))
					cancel()
					if err != nil {
						readErrs.Add(1)
						count(schemas.CodeOf(err))
						t.Logf("read %d: %v", i, err)
						continue
					}
					ok.Add(1)
					continue
				}
				// A write is retried with its own id until it is answered.
				id := "kill-" + engine + "-" + strconv.FormatInt(i, 10)
				p := schemas.Params{"INTEGER": {"ID": json.RawMessage(strconv.FormatInt(i, 10))}}
				for attempt := 0; ; attempt++ {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := c.Query(ctx, "kdb", 2, p, client.Queue(schemas.TagFast), client.RequestID(id))
					cancel()
					if err == nil {
						ok.Add(1)
						break
					}
					count(schemas.CodeOf(err))
					if attempt == 20 {
						t.Errorf("write %d never answered: %v", i, err)
						break
					}
					writeRetries.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(killed)
	var kills []int
	for n := range killed {
		kills = append(kills, n)
	}

	var rowsTotal, distinct, twice int
	direct.QueryRow("SELECT COUNT(*), COUNT(DISTINCT id) FROM kills").Scan(&rowsTotal, &distinct)
	direct.QueryRow("SELECT COUNT(*) FROM (SELECT id FROM kills GROUP BY id HAVING COUNT(*) > 1) d").Scan(&twice)
	writes := total / 2
	t.Logf("%s: sent %d, succeeded %d, read errors %d, write retries %d, error codes %v, connections killed %v, writes applied %d (distinct %d of %d), applied twice %d",
		engine, sent.Load(), ok.Load(), readErrs.Load(), writeRetries.Load(), codes, kills, rowsTotal, distinct, writes, twice)
	if readErrs.Load() != 0 {
		t.Errorf("%d reads failed", readErrs.Load())
	}
	if twice != 0 || rowsTotal != writes || distinct != writes {
		t.Errorf("writes: %d rows, %d distinct, %d applied twice; want %d once each", rowsTotal, distinct, twice, writes)
	}
	if len(kills) != 2 || kills[0] == 0 || kills[1] == 0 {
		t.Errorf("connections killed: %v", kills)
	}
}

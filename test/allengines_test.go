package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
)

// fixture is the same table on every engine, in each one's dialect.
var fixture = map[string][]string{
	"postgres": {`CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), qty INTEGER, big BIGINT,
		ok BOOLEAN, f DOUBLE PRECISION, d DATE, tm TIME, ts TIMESTAMP, note TEXT)`},
	"mysql": {`CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), qty INTEGER, big BIGINT,
		ok BOOLEAN, f DOUBLE, d DATE, tm TIME, ts DATETIME(6), note TEXT) DEFAULT CHARSET = utf8mb4`},
	"sqlite": {`CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), qty INTEGER, big BIGINT,
		ok BOOLEAN, f DOUBLE, d DATE, tm TIME, ts TIMESTAMP, note TEXT)`},
}

var fixtureRows = []string{
	`INSERT INTO items VALUES (1, 'apple', 5, 9007199254740993, TRUE, 0.1, '2024-02-29', '13:14:15', '2024-02-29 13:14:15', 'plain')`,
	`INSERT INTO items VALUES (2, 'Zoë ✓ "quoted"', 0, -1, FALSE, -2.5, '1999-12-31', '00:00:00', '1999-12-31 23:59:59.5', 'line
break')`,
	`INSERT INTO items VALUES (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
}

const fixtureCatalog = `[
 {"ref":1,"name":"point","sql":"SELECT id, name, qty, big, ok, f, d, tm, ts, note FROM items WHERE id = :ID","queue":"fast","public":true},
 {"ref":2,"name":"range","sql":"SELECT id, name FROM items WHERE id BETWEEN :LO AND :HI ORDER BY id","queue":"medium","public":true},
 {"ref":3,"name":"count","sql":"SELECT COUNT(*) AS n, MAX(qty) AS most FROM items","queue":"slow","public":true},
 {"ref":4,"name":"by name","sql":"SELECT id FROM items WHERE name = :NAME","queue":"fast","public":true},
 {"ref":5,"name":"empty","sql":"SELECT id, name FROM items WHERE id < 0","queue":"fast","public":true},
 {"ref":6,"name":"flags","sql":"SELECT id FROM items WHERE ok = :OK AND d < :BEFORE ORDER BY id","queue":"fast","public":true},
 {"ref":7,"name":"private","sql":"SELECT 1 AS one","queue":"fast","public":false}
]`

// TestAllEngines configures PostgreSQL, MariaDB and SQLite in one dqm with
// the same fixture and catalog, fires the same queries at all three in
// parallel through REST, and requires identical bodies apart from
// database, execution_time_ms and queue_used.
func TestAllEngines(t *testing.T) {
	dsns := map[string]string{
		"pg":    testutil.PostgresSchema(t),
		"maria": testutil.MySQLDatabase(t),
		"lite":  filepath.Join(t.TempDir(), "lite.db"),
	}
	engineOf := map[string]string{"pg": "postgres", "maria": "mysql", "lite": "sqlite"}
	catalogFile := filepath.Join(t.TempDir(), "catalog.json")
	os.WriteFile(catalogFile, []byte(fixtureCatalog), 0o644)
	cfg := testConfig(t)
	base := *cfg.Databases["demo"]
	cfg.Databases = map[string]*config.Database{}
	for name, dsn := range dsns {
		engine := engineOf[name]
		direct := testutil.DirectDB(t, engine, dsn)
		for _, stmt := range append(fixture[engine], fixtureRows...) {
			if _, err := direct.Exec(stmt); err != nil {
				t.Fatalf("%s: %s: %v", engine, stmt, err)
			}
		}
		db := base
		db.Name, db.Engine, db.DSN = name, engine, config.DSN(dsn)
		db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: catalogFile}
		db.Triggers = config.Triggers{PollMS: 1000}
		cfg.Databases[name] = &db
	}
	s := start(t, cfg)

	queries := []string{
		`"query_ref":1,"params":{"INTEGER":{"ID":1}}`,
		`"query_ref":1,"params":{"INTEGER":{"ID":2}}`,
		`"query_ref":1,"params":{"INTEGER":{"ID":3}}`,
		`"query_ref":2,"params":{"INTEGER":{"LO":1,"HI":3}}`,
		`"query_ref":3`,
		`"query_ref":4,"params":{"STRING":{"NAME":"Zoë ✓ \"quoted\""}}`,
		`"query_ref":4,"params":{"STRING":{"NAME":"x' OR '1'='1"}}`,
		`"query_ref":5`,
		`"query_ref":6,"params":{"BOOLEAN":{"OK":true},"DATE":{"BEFORE":"2025-01-01"}}`,
		`"query_ref":7`,
		`"query_ref":99`,
		`"query_ref":1,"params":{"INTEGER":{"ID":"one"}}`,
		`"query_ref":1,"params":{"INTEGER":{"ID":1,"UNUSED":2}}`,
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			bodies := map[string]map[string]any{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for name := range dsns {
				wg.Go(func() {
					_, body, _ := call(t, s, "POST", "/api/conduit/query", `{"database":"`+name+`",`+q+`}`)
					for _, k := range []string{"database", "execution_time_ms", "queue_used"} {
						delete(body, k)
					}
					mu.Lock()
					bodies[name] = body
					mu.Unlock()
				})
			}
			wg.Wait()
			want, _ := json.Marshal(bodies["pg"])
			for _, name := range []string{"maria", "lite"} {
				got, _ := json.Marshal(bodies[name])
				if string(got) != string(want) {
					t.Errorf("%s differs from pg:\n%s\n%s", name, got, want)
				}
			}
			t.Log(string(want))
		})
	}
}

package test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/lead"
)

// TestDatabaseOutage: a PostgreSQL database stops accepting connections
// and its backends are terminated. dqm moves it to ERROR, answers its
// queries 503, and once the database accepts again, moves back to
// CONNECTED and serves queries, without a restart.
func TestDatabaseOutage(t *testing.T) {
	base := testutil.PostgresURL(t)
	name := testutil.Unique("dqmt_")
	admin := func(sql string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		testutil.Need(t, "PostgreSQL", err)
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin("CREATE DATABASE " + name)
	t.Cleanup(func() { admin("DROP DATABASE " + name + " WITH (FORCE)") })
	u, _ := url.Parse(base)
	u.Path = "/" + name
	cfg := testConfig(t)
	pg := *cfg.Databases["demo"]
	pg.Name, pg.Engine, pg.DSN = "pg", "postgres", config.DSN(u.String())
	pg.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: cfg.Databases["demo"].Catalog.File}
	pg.Triggers = config.Triggers{PollMS: 1000}
	pg.HeartbeatS = 1
	cfg.Databases = map[string]*config.Database{"pg": &pg}
	s := start(t, cfg)
	l := s.Lead("pg")
	q := `{"query_ref":102,"database":"pg","params":{"INTEGER":{"I":1},"FLOAT":{"F":1},"STRING":{"S":""},"TEXT":{"T":""},
		"BOOLEAN":{"B":true},"DATE":{"D":"2024-01-01"},"TIME":{"TM":"00:00:00"},"DATETIME":{"DT":"2024-01-01 00:00:00"},
		"TIMESTAMP":{"TS":"2024-01-01 00:00:00"}}}`
	if status, body, _ := call(t, s, "POST", "/api/conduit/query", q); status != 200 {
		t.Fatalf("before: %d %v", status, body)
	}
	states := []string{l.State()}
	record := func() bool {
		if st := l.State(); st != states[len(states)-1] {
			states = append(states, st)
		}
		return false
	}

	admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	testutil.Eventually(t, 10*time.Second, "ERROR state", func() bool { record(); return l.State() == lead.StateError })
	testutil.Eventually(t, 10*time.Second, "503 while down", func() bool {
		status, body, h := call(t, s, "POST", "/api/conduit/query", q)
		return status == 503 && body["error"] == "unavailable" && h.Get("Retry-After") != ""
	})
	_, body, _ := call(t, s, "GET", "/readyz", "")
	if body["success"] != false {
		t.Errorf("readyz while down: %v", body)
	}

	admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	testutil.Eventually(t, 40*time.Second, "CONNECTED again", func() bool { record(); return l.State() == lead.StateConnected })
	testutil.Eventually(t, 10*time.Second, "queries served again", func() bool {
		status, _, _ := call(t, s, "POST", "/api/conduit/query", q)
		return status == 200
	})
	t.Logf("states: %v", states)
}

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// testConfig is the demo configuration on random ports and temp dirs, with
// the test catalog file beside the demo's queries table.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Demo()
	dir := t.TempDir()
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.NATS.StoreDir = filepath.Join(dir, "nats")
	cfg.HTTP.Listen = "127.0.0.1:0"
	demo := cfg.Databases["demo"]
	demo.DSN = config.DSN(filepath.Join(dir, "demo.db"))
	abs, err := filepath.Abs("testdata/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	demo.Catalog.File = abs
	return cfg
}

// pgConfig is one PostgreSQL database "pg" in a scratch schema, with the
// sleep query (ref 10): load whose duration the race detector does not
// change.
func pgConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := testConfig(t)
	pg := *cfg.Databases["demo"]
	abs, _ := filepath.Abs("testdata/pg.json")
	pg.Name, pg.Engine, pg.DSN = "pg", "postgres", config.DSN(testutil.PostgresSchema(t))
	pg.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: abs}
	pg.Triggers = config.Triggers{PollMS: 1000}
	cfg.Databases = map[string]*config.Database{"pg": &pg}
	return cfg
}

func sleepFor(d time.Duration) schemas.Params {
	return schemas.Params{"FLOAT": {"SECONDS": json.RawMessage(strconv.FormatFloat(d.Seconds(), 'f', -1, 64))}}
}

// startBench is start for benchmarks: the demo database, ready.
func startBench(b *testing.B) *server.Server {
	b.Helper()
	cfg := config.Demo()
	dir := b.TempDir()
	cfg.NATS.Listen, cfg.NATS.StoreDir, cfg.HTTP.Listen = "127.0.0.1:0", filepath.Join(dir, "nats"), "127.0.0.1:0"
	cfg.Databases["demo"].DSN = config.DSN(filepath.Join(dir, "demo.db"))
	cfg.Databases["demo"].Queues["fast"] = config.Queue{Min: 4, Max: 4}
	s, err := server.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	testutil.Eventually(b, 15*time.Second, "ready", s.Ready)
	return s
}

// start runs an instance and waits until every database is ready.
func start(t *testing.T, cfg *config.Config) *server.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := server.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	testutil.Eventually(t, 15*time.Second, "databases ready", s.Ready)
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// call sends a request and decodes the JSON body into a map.
func call(t *testing.T, s *server.Server, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr()+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, m, resp.Header
}

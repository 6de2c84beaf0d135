package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/schemas"
)

// benchDB is the name of the bench's database in dqm.
const benchDB = "bench"

// Catalog refs: 2 and 55 as in the demo database, their cache-tag
// twins, and their twins on the direct lane.
const (
	refPoint       = 2
	refRange       = 55
	refPointCached = 3
	refRangeCached = 56
	refPointDirect = 4
	refRangeDirect = 57
)

// cacheTTL is the cache-tag entries' cache_ttl_s: longer than any run, so
// a warmed cache only hits.
const cacheTTL = time.Hour

// writeCatalog writes the bench's catalog file: the point and range
// queries on the fast queue, the same two as cache-tag entries, and the
// same two on the direct lane (direct: true; its workers are the fast
// queue's and the cache queue's).
func writeCatalog(dir string) (string, error) {
	path := filepath.Join(dir, "catalog.json")
	ttl := int(cacheTTL / time.Second)
	es := []catalog.Entry{
		{Ref: refPoint, Name: "one number", SQL: pointSQL, Queue: schemas.TagFast, Public: true, Tables: []string{"numbers"}},
		{Ref: refRange, Name: "numbers range", SQL: rangeSQL, Queue: schemas.TagFast, Public: true, TimeoutMS: 5000, Tables: []string{"numbers"}},
		{Ref: refPointCached, Name: "one number, cached", SQL: pointSQL, Queue: schemas.TagCache, Public: true, CacheTTLS: ttl, Tables: []string{"numbers"}},
		{Ref: refRangeCached, Name: "numbers range, cached", SQL: rangeSQL, Queue: schemas.TagCache, Public: true, TimeoutMS: 5000, CacheTTLS: ttl, Tables: []string{"numbers"}},
		{Ref: refPointDirect, Name: "one number, direct", SQL: pointSQL, Queue: schemas.TagFast, Public: true, Tables: []string{"numbers"}, Direct: true},
		{Ref: refRangeDirect, Name: "numbers range, direct", SQL: rangeSQL, Queue: schemas.TagFast, Public: true, TimeoutMS: 5000, Tables: []string{"numbers"}, Direct: true},
	}
	b, err := json.MarshalIndent(es, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, b, 0o644)
}

// target is a dqm instance under load, in this process or in a `dqm
// serve` process of its own.
type target struct {
	mode string
	url  string // POST /api/conduit/query
	// client is uncached; cached has a near-cache of its own.
	client, cached *client.Client
	pid            int // the process holding dqm
	external       bool
	stops          []func()
	hc             []*http.Client
}

func (t *target) stop() {
	for _, c := range t.hc {
		c.CloseIdleConnections()
	}
	for i := len(t.stops) - 1; i >= 0; i-- {
		t.stops[i]()
	}
}

// nearCache is a client's own cache, sized as the instance's default.
func nearCache() *client.Cache {
	d := config.Default().Cache
	return client.NewCache(d.MaxEntries, d.MaxBytes)
}

// benchConfig is the instance's configuration: the bench database only,
// fast queue of workers workers (min = max), one cache-queue worker for
// the cache entries' misses, no change polling.
func benchConfig(dir string, fx *fixture, workers int, natsListen, httpListen, storeDir string) (*config.Config, error) {
	cat, err := writeCatalog(dir)
	if err != nil {
		return nil, err
	}
	cfg := config.Demo()
	cfg.NATS.Listen = natsListen
	cfg.NATS.StoreDir = storeDir
	if natsSync != "" {
		cfg.NATS.Sync = natsSync
	}
	cfg.HTTP.Listen = httpListen
	cfg.Log.Level = "warn"
	db := *cfg.Databases["demo"] // the per-database defaults
	db.Name = benchDB
	db.Engine = fx.engine
	db.DSN = config.DSN(fx.dsn)
	db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: cat}
	db.Queues = map[string]config.Queue{
		schemas.TagFast:  {Min: workers, Max: workers},
		schemas.TagCache: {Min: 1, Max: 1},
	}
	db.Triggers = config.Triggers{Tables: []string{}, PollMS: 1000}
	cfg.Databases = map[string]*config.Database{benchDB: &db}
	return cfg, cfg.Validate()
}

// startInProcess runs an instance in this process (server.Start) and
// waits until its workers run.
func startInProcess(ctx context.Context, dir string, fx *fixture, workers int, log *slog.Logger) (*target, error) {
	cfg, err := benchConfig(dir, fx, workers, "127.0.0.1:0", "127.0.0.1:0", filepath.Join(dir, "nats-"+fx.engine))
	if err != nil {
		return nil, err
	}
	return runInProcess(ctx, cfg, modeInProcess, workers, log)
}

// runInProcess starts the instance cfg describes in this process and
// waits until its workers run.
func runInProcess(ctx context.Context, cfg *config.Config, mode string, workers int, log *slog.Logger) (*target, error) {
	s, err := server.Start(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	t := &target{mode: mode, client: s.Client(), pid: os.Getpid(),
		url: "http://" + s.HTTPAddr() + "/api/conduit/query"}
	t.stops = append(t.stops, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	ready := func() bool {
		l := s.Lead(benchDB)
		return s.Ready() && l.Workers(schemas.TagFast) == workers && l.Workers(schemas.TagCache) == 1
	}
	if err := poll(ctx, 30*time.Second, ready); err != nil {
		t.stop()
		return nil, fmt.Errorf("not ready: %w", err)
	}
	if t.cached, err = client.New(s.NATS(), client.WithSource("/dqm/bench"), client.WithCache(nearCache())); err != nil {
		t.stop()
		return nil, err
	}
	t.stops = append(t.stops, func() { t.cached.Close() })
	return t, nil
}

// buildDQM builds ./cmd/dqm into dir, from the module's root.
func buildDQM(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "dqm")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/dqm")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/dqm: %v\n%s", err, out)
	}
	return bin, nil
}

// freeAddr is a loopback address with a port free just now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startExternal runs `dqm serve` as a process of its own, with embedded
// NATS on a free port, and reaches it over loopback: REST by HTTP, the Go
// clients by a TCP connection to its NATS.
func startExternal(ctx context.Context, bin, dir string, fx *fixture, workers int, stderr io.Writer) (*target, error) {
	natsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	sub := filepath.Join(dir, "external-"+fx.engine)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return nil, err
	}
	cfg, err := benchConfig(sub, fx, workers, natsAddr, httpAddr, filepath.Join(sub, "nats"))
	if err != nil {
		return nil, err
	}
	data, err := configJSON(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(sub, "dqm.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "-config", path)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := &target{mode: modeExternal, external: true, pid: cmd.Process.Pid, url: "http://" + httpAddr + "/api/conduit/query"}
	t.stops = append(t.stops, func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	hc := &http.Client{Timeout: time.Second}
	ready := func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		resp, err := hc.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if err := poll(ctx, 60*time.Second, ready); err != nil {
		t.stop()
		return nil, fmt.Errorf("dqm serve not ready: %w", err)
	}
	select {
	case err := <-exited:
		exited <- err
		t.stop()
		return nil, fmt.Errorf("dqm serve exited: %v", err)
	default:
	}
	nc, err := nats.Connect("nats://"+natsAddr, nats.Name("dqm bench"), nats.MaxReconnects(-1))
	if err != nil {
		t.stop()
		return nil, err
	}
	t.stops = append(t.stops, nc.Close)
	if t.client, err = client.New(nc, client.WithSource("/dqm/bench")); err != nil {
		t.stop()
		return nil, err
	}
	if t.cached, err = client.New(nc, client.WithSource("/dqm/bench"), client.WithCache(nearCache())); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// configJSON is the dqm.json of cfg, written out by hand: secrets and
// DSNs do not marshal their values.
func configJSON(cfg *config.Config) ([]byte, error) {
	db := cfg.Databases[benchDB]
	queues := map[string]any{}
	for tag, q := range db.Queues {
		queues[tag] = map[string]int{"min": q.Min, "max": q.Max}
	}
	return json.MarshalIndent(map[string]any{
		"nats": map[string]any{"url": "embedded", "listen": cfg.NATS.Listen, "store_dir": cfg.NATS.StoreDir},
		"http": map[string]any{"listen": cfg.HTTP.Listen},
		"log":  map[string]any{"level": "warn"},
		"databases": map[string]any{benchDB: map[string]any{
			"engine":   db.Engine,
			"dsn":      db.DSN.Reveal(),
			"catalog":  map[string]any{"table": db.Catalog.Table, "file": db.Catalog.File, "manage_tables": true},
			"queues":   queues,
			"triggers": map[string]any{"tables": []string{}, "poll_ms": db.Triggers.PollMS},
		}},
	}, "", "  ")
}

// poll waits until cond holds, up to d.
func poll(ctx context.Context, d time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// --- requests.

// The request rings: the bench measures dqm, not the building of
// parameter maps, so every request is built once.
var (
	pointParams []schemas.Params
	rangeParams = schemas.Params{"INTEGER": {
		"START":  json.RawMessage(strconv.Itoa(rangeLo)),
		"FINISH": json.RawMessage(strconv.Itoa(rangeHi)),
	}}
)

// ringSize is how many distinct point requests there are.
const ringSize = 1024

func init() {
	for i := range ringSize {
		pointParams = append(pointParams, schemas.Params{"INTEGER": {"N": json.RawMessage(strconv.Itoa(numberOf(i)))}})
	}
}

// restBodies are the REST bodies of a query on entry ref.
func restBodies(query string, ref int) [][]byte {
	if query == qRange {
		return [][]byte{fmt.Appendf(nil, `{"query_ref":%d,"database":"bench","params":{"INTEGER":{"START":%d,"FINISH":%d}}}`, ref, rangeLo, rangeHi)}
	}
	out := make([][]byte, ringSize)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"query_ref":%d,"database":"bench","params":{"INTEGER":{"N":%d}}}`, ref, numberOf(i))
	}
	return out
}

// clientOp queries through a Go client; cached ones use the cache-tag
// entry with CacheFor.
func clientOp(cl *client.Client, query string, cached bool) op {
	ref, want := int64(refPoint), 1
	if query == qRange {
		ref, want = refRange, rangeRows
	}
	opts := []client.QueryOption{client.Queue(schemas.TagFast)}
	if cached {
		ref = int64(refOf(query, true))
		opts = []client.QueryOption{client.Queue(schemas.TagCache), client.CacheFor(cacheTTL), client.Tables("numbers")}
	}
	return func(ctx context.Context, _, i int) error {
		p := rangeParams
		if query == qPoint {
			p = pointParams[i%len(pointParams)]
		}
		res, err := cl.Query(ctx, benchDB, ref, p, opts...)
		if err != nil {
			return err
		}
		if res.RowCount != want {
			return fmt.Errorf("%s query: %d rows", query, res.RowCount)
		}
		return nil
	}
}

// laneOp queries the direct twin of query through a Go client with
// client.Direct().
func laneOp(cl *client.Client, query string) op {
	ref, want := int64(refPointDirect), 1
	if query == qRange {
		ref, want = refRangeDirect, rangeRows
	}
	return func(ctx context.Context, _, i int) error {
		p := rangeParams
		if query == qPoint {
			p = pointParams[i%len(pointParams)]
		}
		res, err := cl.Query(ctx, benchDB, ref, p, client.Direct())
		if err != nil {
			return err
		}
		if res.RowCount != want || res.QueueUsed != schemas.Direct {
			return fmt.Errorf("%s query: %d rows, queue %q", query, res.RowCount, res.QueueUsed)
		}
		return nil
	}
}

// httpClient is the keep-alive client of every HTTP row at concurrency c.
func httpClient(c int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        c,
			MaxIdleConnsPerHost: c,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// httpServer is the server settings of every HTTP row that is not dqm's,
// as internal/server sets them from dqm's default configuration: the same
// timeouts (each costs deadline updates per request) and header limit.
func httpServer(h http.Handler) *http.Server {
	d := config.Default().HTTP
	return &http.Server{Handler: h, ReadTimeout: d.ReadTimeout(), ReadHeaderTimeout: d.ReadHeaderTimeout(),
		WriteTimeout: d.WriteTimeout(), IdleTimeout: d.IdleTimeout(), MaxHeaderBytes: d.MaxHeaderBytes}
}

// restOp posts bodies in turn to url and checks for a success reply (of
// 101 rows for the range query). Each load goroutine has its own buffer.
func restOp(hc *http.Client, url, query string, bodies [][]byte, c int) op {
	bufs := make([]bytes.Buffer, c)
	return func(ctx context.Context, w, i int) error {
		buf := &bufs[w]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(buf.Bytes(), []byte(`{"success":true`)) {
			return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, buf.Bytes())
		}
		if query == qRange && !bytes.Contains(buf.Bytes(), []byte(`"row_count":101`)) {
			return fmt.Errorf("range query: %.200s", buf.Bytes())
		}
		return nil
	}
}

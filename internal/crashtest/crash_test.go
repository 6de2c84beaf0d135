package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/sqlite"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// The catalog of the test: a write and a read of the orders table.
const (
	refInsert = 1
	refCount  = 2
	db        = "shop"
)

// freePort is a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// buildDQM builds ./cmd/dqm into the test's temp dir.
func buildDQM(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dqm")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dqmhq/dqm/cmd/dqm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/dqm: %v\n%s", err, out)
	}
	return bin
}

// process is one `dqm serve` child.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func serve(t *testing.T, bin, config, logPath string) *process {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-config", config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

func waitReady(t *testing.T, p *process, base, logPath string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("dqm exited before it was ready:\n%s", log)
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("dqm not ready in 60 s:\n%s", log)
}

// tally counts what the clients saw, across attempts.
type tally struct {
	mu       sync.Mutex
	attempts int
	codes    map[string]int // error code of every attempt ("no_response" when none)
}

func (c *tally) add(code string) {
	c.mu.Lock()
	c.attempts++
	if code != "" {
		c.codes[code]++
	}
	c.mu.Unlock()
}

// retryable says an attempt got no final answer: nothing came back, or the
// instance said it could not answer yet (restarting, no worker, no reply
// before the deadline). The Go client sees "no stream" while the
// restarted server has not recovered its streams: invalid_database.
func retryable(code string) bool {
	switch schemas.Code(code) {
	case "no_response", schemas.CodeTimeout, schemas.CodeUnavailable, schemas.CodeQueueFull, schemas.CodeInvalidDatabase:
		return true
	}
	return false
}

// TestWholeProcessCrash: a mixed load of writes and reads, half through
// REST with Idempotency-Key and some through the Go client with RequestID;
// dqm is SIGKILLed mid-load and restarted on the same store and database;
// every request is retried with its key until answered. Afterwards every
// write is applied exactly once, every request is answered, and every
// change event is in DQM_CHANGES once, in sequence order.
func TestWholeProcessCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs dqm")
	}
	total := 2000
	if testutil.InCI() {
		total = 400
	}
	bin := buildDQM(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	createTable(t, dbPath)
	catalogPath := filepath.Join(dir, "catalog.json")
	writeJSON(t, catalogPath, []map[string]any{
		{"ref": refInsert, "name": "add order", "sql": "INSERT INTO orders (k) VALUES (:K)", "queue": "medium", "public": true, "tables": []string{"orders"}},
		{"ref": refCount, "name": "count orders", "sql": "SELECT COUNT(*) AS n FROM orders WHERE k = :K", "queue": "fast", "public": true, "tables": []string{"orders"}},
	})
	natsPort, httpPort := freePort(t), freePort(t)
	configPath := filepath.Join(dir, "dqm.json")
	writeJSON(t, configPath, map[string]any{
		"nats": map[string]any{"url": "embedded", "listen": "127.0.0.1:" + strconv.Itoa(natsPort),
			"store_dir": filepath.Join(dir, "nats"), "sync": "always"},
		"http": map[string]any{"listen": "127.0.0.1:" + strconv.Itoa(httpPort)},
		"log":  map[string]any{"level": "warn"},
		"databases": map[string]any{db: map[string]any{
			"engine": "sqlite", "dsn": dbPath,
			"catalog":     map[string]any{"table": "queries", "file": catalogPath},
			"queues":      map[string]any{"medium": map[string]any{"min": 2, "max": 2}, "fast": map[string]any{"min": 2, "max": 2}},
			"triggers":    map[string]any{"tables": []string{"orders"}, "poll_ms": 100},
			"ack_wait_ms": 5000, "default_timeout_ms": 3000, "lead_ttl_s": 2,
		}},
	})
	logPath := filepath.Join(dir, "dqm.log")
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	p := serve(t, bin, configPath, logPath)
	waitReady(t, p, base, logPath)

	nc, err := nats.Connect("nats://127.0.0.1:"+strconv.Itoa(natsPort),
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cl, err := client.New(nc, client.WithSource("/crashtest"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// Request i: even ones write order k-i, odd ones read it; every fifth
	// goes through the Go client, the rest through REST.
	c := &tally{codes: map[string]int{}}
	var answered, succeeded, replays atomic.Int64 // replays: writes answered from their record
	final := make([]string, total)                // the final code of each request ("" success)
	httpc := &http.Client{Timeout: 8 * time.Second}
	killAt := int64(total * 2 / 5)
	attempt := func(i int) (code string) {
		key := "k-" + strconv.Itoa(i)
		ref := int64(refInsert)
		if i%2 == 1 {
			ref = refCount
		}
		params := schemas.Params{"STRING": {"K": json.RawMessage(strconv.Quote(key))}}
		if i%5 == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := cl.Query(ctx, db, ref, params, client.RequestID("go-"+strconv.Itoa(i)), client.Queue(queueOf(ref)))
			if err == nil {
				if strings.Contains(res.Message, "replay") {
					replays.Add(1)
				}
				return ""
			}
			if code := schemas.CodeOf(err); code != "" {
				return string(code)
			}
			return "no_response"
		}
		body, _ := json.Marshal(map[string]any{"query_ref": ref, "database": db, "params": params})
		req, _ := http.NewRequest("POST", base+"/api/conduit/query", bytes.NewReader(body))
		req.Header.Set("Idempotency-Key", "crash-"+strconv.Itoa(i))
		resp, err := httpc.Do(req)
		if err != nil {
			return "no_response"
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var res schemas.Result
		if json.Unmarshal(raw, &res) != nil {
			return "no_response"
		}
		if res.Success {
			if strings.Contains(res.Message, "replay") {
				replays.Add(1)
			}
			return ""
		}
		return string(res.Error)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				for {
					code := attempt(i)
					c.add(code)
					if !retryable(code) {
						final[i] = code
						answered.Add(1)
						if code == "" {
							succeeded.Add(1)
						}
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	go func() {
		for i := range total {
			work <- i
		}
		close(work)
	}()
	// SIGKILL mid-load, then a new process on the same store and database.
	testutil.Eventually(t, 5*time.Minute, "the load reaches the kill point", func() bool { return answered.Load() >= killAt })
	t.Logf("SIGKILL after %d of %d answered", answered.Load(), total)
	p.kill()
	p = serve(t, bin, configPath, logPath)
	loaded := make(chan struct{})
	go func() { wg.Wait(); close(loaded) }()
	select {
	case <-loaded:
	case <-time.After(5 * time.Minute):
		t.Fatalf("load not answered in 5 min after the restart: %d of %d answered", answered.Load(), total)
	}
	waitReady(t, p, base, logPath)

	// Writes: one row per even request, none twice.
	rows := countRows(t, dbPath)
	var applied, twice, missing, extra int
	for i := 0; i < total; i += 2 {
		switch n := rows["k-"+strconv.Itoa(i)]; {
		case n == 1:
			applied++
		case n > 1:
			applied++
			twice++
		default:
			missing++
		}
	}
	for k := range rows {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, "k-")); err != nil || n%2 == 1 || n >= total {
			extra++
		}
	}
	writes := (total + 1) / 2

	// Change events: every row's insert once, in sequence order.
	events, dupEvents, outOfOrder := changeEvents(t, nc, writes)
	codes := make([]string, 0, len(c.codes))
	for k, n := range c.codes {
		codes = append(codes, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(codes)
	finals := map[string]int{}
	for _, f := range final {
		if f != "" {
			finals[f]++
		}
	}
	t.Logf("sent %d requests (%d writes, %d through the Go client) in %d attempts; answered %d, succeeded %d; final failures %v",
		total, writes, (total+4)/5, c.attempts, answered.Load(), succeeded.Load(), finals)
	t.Logf("error codes over all attempts: %s; writes answered from their record (replays) %d", strings.Join(codes, " "), replays.Load())
	t.Logf("writes applied %d of %d, applied twice %d, missing %d, unexpected rows %d; change events %d (duplicates %d, out of order %d)",
		applied, writes, twice, missing, extra, len(events), dupEvents, outOfOrder)

	if answered.Load() != int64(total) || succeeded.Load() != int64(total) {
		t.Errorf("answered %d, succeeded %d of %d", answered.Load(), succeeded.Load(), total)
	}
	if applied != writes || twice != 0 || missing != 0 || extra != 0 {
		t.Errorf("writes: applied %d of %d, twice %d, missing %d, extra %d", applied, writes, twice, missing, extra)
	}
	if len(events) != writes || dupEvents != 0 || outOfOrder != 0 {
		t.Errorf("change events: %d of %d, duplicates %d, out of order %d", len(events), writes, dupEvents, outOfOrder)
	}
	for i := 0; i < total; i += 2 {
		if events["k-"+strconv.Itoa(i)] != 1 {
			t.Errorf("k-%d: %d insert events", i, events["k-"+strconv.Itoa(i)])
			break
		}
	}
	if c.codes["no_response"] == 0 {
		t.Error("the crash went unnoticed: no attempt lost its answer")
	}
}

func queueOf(ref int64) string {
	if ref == refCount {
		return schemas.TagFast
	}
	return schemas.TagMedium
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func sqliteConn(t *testing.T, path string) engines.Conn {
	t.Helper()
	conn, err := sqlite.New().Open(context.Background(), path, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// createTable makes orders: k is the write's key, not unique, so a write
// applied twice shows as two rows.
func createTable(t *testing.T, path string) {
	t.Helper()
	conn := sqliteConn(t, path)
	if _, err := conn.Run(context.Background(), []engines.Statement{
		{SQL: "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL)"},
	}); err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

// countRows is the number of rows of each key.
func countRows(t *testing.T, path string) map[string]int {
	t.Helper()
	conn := sqliteConn(t, path)
	res, err := conn.Run(context.Background(), []engines.Statement{{SQL: "SELECT k, COUNT(*) AS n FROM orders GROUP BY k"}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		K string `json:"k"`
		N int    `json:"n"`
	}
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.K] = r.N
	}
	return out
}

// changeEvents reads the orders inserts of DQM_CHANGES, waiting until
// want distinct ones are there (the Lead publishes what it has not yet
// after the restart). It returns the events per key, how many repeated a
// sequence id, and how many came after a higher sequence id.
func changeEvents(t *testing.T, nc *nats.Conn, want int) (byKey map[string]int, dups, outOfOrder int) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var next uint64 = 1
	var maxSeq int64
	byKey = map[string]int{}
	seen := map[int64]bool{}
	for {
		st, err := js.Stream(ctx, schemas.ChangesStream)
		if err != nil {
			t.Fatalf("stream %s: %v", schemas.ChangesStream, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for ; next <= info.State.LastSeq; next++ {
			m, err := st.GetMsg(ctx, next)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("change %d: %v", next, err)
			}
			var ch schemas.Change
			if err := json.Unmarshal(m.Data, &ch); err != nil {
				t.Fatalf("change %d: %v", next, err)
			}
			if ch.Database != db || ch.Table != "orders" || ch.Op != "insert" {
				continue
			}
			if seen[ch.SequenceID] {
				dups++
				continue
			}
			seen[ch.SequenceID] = true
			if ch.SequenceID < maxSeq {
				outOfOrder++
			}
			maxSeq = max(maxSeq, ch.SequenceID)
			var data struct {
				New struct {
					K string `json:"k"`
				} `json:"new"`
			}
			json.Unmarshal(ch.Data, &data)
			byKey[data.New.K]++
		}
		if len(seen) >= want {
			return byKey, dups, outOfOrder
		}
		select {
		case <-ctx.Done():
			return byKey, dups, outOfOrder
		case <-time.After(200 * time.Millisecond):
		}
	}
}

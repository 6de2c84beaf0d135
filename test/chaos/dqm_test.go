//go:build chaos

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The database the suite writes to, created afresh per run.
const (
	pgDatabase = "dqm_chaos"
	table      = "chaos_writes"
	refWrite   = 1
	refRead    = 2
	// entryTimeout is both entries' timeout_ms: a REST request's deadline
	// is it plus ingress's 2 s queue grace.
	entryTimeout = 3 * time.Second
	deadline     = entryTimeout + 2*time.Second
)

// buildDQM builds cmd/dqm into dir.
func buildDQM(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "dqm")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/dqm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build dqm: %v\n%s", err, out)
	}
	return bin
}

// pgSetup makes database dqm_chaos afresh with the table the writes go
// to, and returns its URL. No key is unique in the table: a write applied
// twice is two rows, which the checker counts.
func pgSetup(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{"DROP DATABASE IF EXISTS " + pgDatabase + " WITH (FORCE)", "CREATE DATABASE " + pgDatabase} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("postgresql://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, pgDatabase)
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{"CREATE TABLE " + table + " (id bigserial PRIMARY KEY, k text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
		"CREATE INDEX ON " + table + " (k)"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// dqmProc is one `dqm serve` process.
type dqmProc struct {
	name, bin, conf, log string
	http                 string // host:port

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// newDQMs writes n instances' configuration: the three nodes at replicas,
// the chaos database with a keyed write and a read.
func newDQMs(t *testing.T, bin, dir, pgURL string, nodes []*node, n, replicas int) []*dqmProc {
	t.Helper()
	var urls []string
	for _, nd := range nodes {
		urls = append(urls, nd.url())
	}
	catalog := filepath.Join(dir, "catalog.json")
	entries := []map[string]any{
		{"ref": refWrite, "name": "write", "sql": "INSERT INTO " + table + " (k) VALUES (:K)", "queue": "medium",
			"public": true, "timeout_ms": entryTimeout.Milliseconds(), "tables": []string{table}},
		{"ref": refRead, "name": "read", "sql": "SELECT count(*) AS n FROM " + table + " WHERE k = :K", "queue": "fast",
			"public": true, "timeout_ms": entryTimeout.Milliseconds(), "tables": []string{table}},
	}
	writeJSON(t, catalog, entries)
	out := make([]*dqmProc, n)
	for i := range out {
		p := &dqmProc{name: fmt.Sprintf("dqm%d", i+1), bin: bin, http: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		p.conf, p.log = filepath.Join(dir, p.name+".json"), filepath.Join(dir, p.name+".log")
		// min 2: each instance runs a worker of every tag, so losing one
		// instance leaves every queue served (with min 1 a tag whose only
		// worker died waits for the Lead to re-plan, about a lease TTL).
		queue := map[string]int{"min": 2, "max": 4}
		writeJSON(t, p.conf, map[string]any{
			"nats": map[string]any{"url": strings.Join(urls, ","), "replicas": replicas},
			"http": map[string]any{"listen": p.http},
			"log":  map[string]any{"level": "info", "format": "json"},
			"databases": map[string]any{"chaos": map[string]any{
				"engine": "postgres", "dsn": pgURL,
				"catalog":  map[string]any{"file": catalog},
				"triggers": map[string]any{"tables": []string{table}},
				"queues":   map[string]any{"slow": queue, "medium": queue, "fast": queue, "cache": queue},
			}},
		})
		out[i] = p
		t.Cleanup(p.kill)
	}
	return out
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (p *dqmProc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s already running", p.name)
	}
	lf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, "serve", "-config", p.conf)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); lf.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	return nil
}

// kill is kill -9.
func (p *dqmProc) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop lands the instance (SIGTERM) and waits for it to exit.
func (p *dqmProc) stop() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-exited
}

// pid is the running process's id (0 if none).
func (p *dqmProc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// ready is /readyz.
func (p *dqmProc) ready(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.http+"/readyz", nil)
	resp, err := monitorClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// leader reports whether this instance holds the chaos database's Lead
// lease, from its status endpoint.
func (p *dqmProc) leader(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.http+"/metrics", nil)
	resp, err := monitorClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), `dqm_leader{db="chaos"} 1`)
}

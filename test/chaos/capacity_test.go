//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/replication"
	"github.com/dqmhq/dqm/schemas"
)

var (
	flagCapacity    = flag.String("chaos.capacity", "", "write TestCapacity's rows as JSON to this file")
	flagCapDuration = flag.Duration("chaos.capacity-duration", 8*time.Second, "how long each capacity row runs")
)

// capRow is one measured path at one replica count: throughput and the
// CPU each request cost in each kind of process.
type capRow struct {
	Path        string  `json:"path"`
	Replicas    int     `json:"replicas"`
	Concurrency int     `json:"concurrency"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	Errors      int64   `json:"errors"`
	P50US       float64 `json:"p50_us"`
	// CPU µs per request: the dqm processes together, the three
	// nats-server processes together, PostgreSQL's backends of the
	// database, and the load generator (this test process); each less
	// what the process spends idle in as long (heartbeats, pings, raft),
	// measured just before.
	DQMCPUUS    float64 `json:"dqm_cpu_us_per_op"`
	NATSCPUUS   float64 `json:"nats_cpu_us_per_op"`
	PGCPUUS     float64 `json:"pg_cpu_us_per_op"`
	LoadCPUUS   float64 `json:"load_cpu_us_per_op"`
	RatioToR1   float64 `json:"ratio_to_r1,omitempty"`
	LoadAverage string  `json:"load_average"`
}

// TestCapacity measures REST reads, REST writes and Go client reads
// through two dqm instances on the three-node cluster (separate
// processes, loopback or namespaces) at R1 and at R3, with the CPU each
// request costs in dqm, in NATS and in PostgreSQL: the inputs of the
// capacity model in docs/ha.md, and the R3/R1 ratio.
func TestCapacity(t *testing.T) {
	h := newHarness(t)
	var rows []capRow
	r1 := map[string]float64{}
	for _, replicas := range []int{1, 3} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		h.resetStreams(ctx)
		h.startDQMs(ctx, replicas)
		cancel()
		gc, err := client.New(h.nc)
		if err != nil {
			t.Fatal(err)
		}
		seedKeys(t, h, 1000)
		// Writes last: their change events are still being published
		// after them, which the next row's idle reading would take in.
		for _, path := range []string{"rest_read", "client_read", "rest_write"} {
			row := h.measure(t, path, replicas, gc, 32, *flagCapDuration)
			if replicas == 1 {
				r1[path] = row.OpsPerSec
			} else if r1[path] > 0 {
				row.RatioToR1 = row.OpsPerSec / r1[path]
			}
			t.Logf("%+v", row)
			rows = append(rows, row)
		}
		gc.Close()
		for _, p := range h.dqms {
			p.stop()
		}
	}
	t.Log("\n" + capTable(rows))
	if *flagCapacity != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(*flagCapacity, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// resetStreams deletes every stream dqm made, so the next instances make
// them again with their replica count.
func (h *harness) resetStreams(ctx context.Context) {
	for _, name := range replication.Streams([]string{"chaos"}) {
		h.js.DeleteStream(ctx, name)
	}
}

// seedKeys writes n keyed rows for the reads, through REST.
func seedKeys(t *testing.T, h *harness, n int) {
	t.Helper()
	ld := newLoad(h.dqms)
	for i := range n {
		if out := ld.call(h.dqms[i%2], refWrite, fmt.Sprintf("seed-%d", i), true); out != outOK {
			t.Fatalf("seed write %d: outcome %d", i, out)
		}
	}
}

// measure runs c closed-loop callers of path for d and reads the CPU the
// processes spent meanwhile.
func (h *harness) measure(t *testing.T, path string, replicas int, cl *client.Client, c int, d time.Duration) capRow {
	t.Helper()
	call := h.caller(path, cl)
	warm, cancelWarm := context.WithTimeout(context.Background(), 2*time.Second)
	h.drive(warm, c, call, nil)
	cancelWarm()
	// Idle: what the processes spend with no request, per second.
	idleFrom := h.cpu()
	pause(2 * time.Second)
	idleTo := h.cpu()
	idle := map[string]float64{}
	for k := range idleTo {
		idle[k] = float64(idleTo[k]-idleFrom[k]) / float64(2*time.Second)
	}
	before := h.cpu()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ops, errs atomic.Int64
	lat := make([][]time.Duration, c)
	start := time.Now()
	h.drive(ctx, c, call, func(i int, took time.Duration, err error) {
		if err != nil {
			errs.Add(1)
			return
		}
		ops.Add(1)
		lat[i] = append(lat[i], took)
	})
	if path == "rest_write" {
		// A write's change event is published after its answer: its cost
		// is the write's, so the reading ends when the Lead is done.
		h.drainChanges(t)
	}
	elapsed := time.Since(start)
	after := h.cpu()
	n := float64(ops.Load())
	per := func(k string) float64 {
		busy := float64(after[k]-before[k]) - idle[k]*float64(elapsed)
		return max(busy, 0) / 1e3 / n
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	la, _ := os.ReadFile("/proc/loadavg")
	return capRow{Path: path, Replicas: replicas, Concurrency: c, OpsPerSec: round1(n / elapsed.Seconds()), Errors: errs.Load(),
		P50US: round1(float64(percentile(all, 50).Microseconds())), DQMCPUUS: round1(per("dqm")), NATSCPUUS: round1(per("nats")),
		PGCPUUS: round1(per("pg")), LoadCPUUS: round1(per("load")), LoadAverage: strings.Join(strings.Fields(string(la))[:3], " ")}
}

// caller is one request of path.
func (h *harness) caller(path string, cl *client.Client) func(ctx context.Context, i, seq int) error {
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	rest := func(ctx context.Context, p *dqmProc, ref int, key string, write bool) error {
		body, _ := json.Marshal(map[string]any{"query_ref": ref, "database": "chaos", "params": map[string]any{"STRING": map[string]string{"K": key}}})
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+p.http+"/api/conduit/query", bytes.NewReader(body))
		if write {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || !a.Success {
			return fmt.Errorf("HTTP %d %s %v", resp.StatusCode, a.Error, err)
		}
		return nil
	}
	run := time.Now().UnixNano()
	switch path {
	case "rest_write":
		return func(ctx context.Context, i, seq int) error {
			return rest(ctx, h.dqms[i%2], refWrite, fmt.Sprintf("cap-%d-%d-%d", run, i, seq), true)
		}
	case "client_read":
		return func(ctx context.Context, i, seq int) error {
			params := schemas.Params{"STRING": {"K": json.RawMessage(strconv.Quote(fmt.Sprintf("seed-%d", (i*7919+seq)%1000)))}}
			_, err := cl.Query(ctx, "chaos", refRead, params)
			return err
		}
	}
	return func(ctx context.Context, i, seq int) error {
		return rest(ctx, h.dqms[i%2], refRead, fmt.Sprintf("seed-%d", (i*7919+seq)%1000), false)
	}
}

// drive runs c callers until ctx ends; done (if set) hears each result.
func (h *harness) drive(ctx context.Context, c int, call func(ctx context.Context, i, seq int) error, done func(i int, took time.Duration, err error)) {
	var wg sync.WaitGroup
	for i := range c {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				rctx, cancel := context.WithTimeout(context.Background(), deadline+slack)
				start := time.Now()
				err := call(rctx, i, seq)
				cancel()
				if done != nil && ctx.Err() == nil {
					done(i, time.Since(start), err)
				}
			}
		})
	}
	wg.Wait()
}

// cpu is the CPU time spent so far by each kind of process.
func (h *harness) cpu() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, p := range h.dqms {
		out["dqm"] += procCPU(p.pid())
	}
	for _, nd := range h.nodes {
		out["nats"] += procCPU(nd.pid())
	}
	// PostgreSQL names each backend by its database in its title.
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err == nil && bytes.HasPrefix(b, []byte("postgres: ")) && bytes.Contains(b, []byte(" "+pgDatabase+" ")) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out["pg"] += procCPU(pid)
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	out["load"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return out
}

// procCPU is a process's user + system CPU time from /proc (0 if gone).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	slices.Sort(s)
	return s[len(s)*p/100]
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// capTable is the rows as Markdown.
func capTable(rows []capRow) string {
	var b strings.Builder
	b.WriteString("| path | replicas | c | ops/s | ÷ R1 | p50 µs | CPU µs/op dqm | NATS (3 nodes) | PostgreSQL | load generator | errors | load average |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		ratio := "–"
		if r.RatioToR1 > 0 {
			ratio = fmt.Sprintf("%.2f×", r.RatioToR1)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %s |\n", r.Path, r.Replicas, r.Concurrency,
			r.OpsPerSec, ratio, r.P50US, r.DQMCPUUS, r.NATSCPUUS, r.PGCPUUS, r.LoadCPUUS, r.Errors, r.LoadAverage)
	}
	return b.String()
}

// drainChanges waits until every trigger event has been delivered.
func (h *harness) drainChanges(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, h.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	h.poll(ctx, "every trigger event delivered", func() bool {
		var n int
		err := c.QueryRow(ctx, "SELECT count(*) FROM trigger_events WHERE NOT delivered").Scan(&n)
		return err == nil && n == 0
	})
}

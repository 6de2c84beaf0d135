// Command bench measures dqm against the database drivers it wraps, in one
// run on one machine, and writes bench/results.json and a Markdown report
// generated from the same rows (make bench).
//
// Per engine (sqlite, postgres, mysql) it creates a numbers table 0..9999
// in a database of its own and runs two queries, the point query
// SELECT numbers FROM numbers WHERE numbers = :N and the demo's range
// query ref 55 (500..600, 101 rows), at each -concurrency, through these
// paths (the JSON rows' "path"):
//
//   - direct: the raw driver, no dqm (one prepared pgx.Conn per goroutine;
//     database/sql with MaxOpenConns = c for mysql and sqlite);
//   - ideal: JetStream publish → pull consumer → the same driver → reply,
//     with no dqm code: the ceiling of dqm's design;
//   - ideal_http: the ideal pipeline behind a minimal net/http handler;
//   - http_floor: a bare net/http handler writing a fixed JSON reply;
//   - client: a dqm instance's Go client (uncached), fast queue;
//   - client_cached: a Go client with its own near-cache
//     (client.WithCache) on a cache-tag entry, warmed: cache hits;
//   - rest: POST /api/conduit/query, uncached;
//   - rest_cached: the same on a cache-tag entry with cache_ttl_s, warmed:
//     hits of the instance cache;
//   - client_direct: the Go client with client.Direct() on a direct
//     twin of the query (catalog direct: true): core NATS request/reply
//     to the workers, no JetStream;
//   - rest_direct: POST /api/conduit/query on that direct twin.
//
// The three HTTP paths share one client and one server configuration. The
// dqm paths run against an instance in this process (server.Start, mode
// "inprocess") and, with -mode external or both, against `dqm serve` as a
// process of its own (mode "external": built from ./cmd/dqm, embedded NATS
// on a free port, reached over loopback TCP), and (modes cluster_r1 and
// cluster_r3, on by default) on a three-node NATS cluster in this process
// at R1 and R3, client and REST rows only, to report what replication
// costs. Baselines with no database (core NATS echo, JetStream loops) go
// into the report only.
//
// Everything shares this machine's cores, as on a small deployment.
// The paths of one engine, query and concurrency run side by side
// and their runs alternate (-runs rounds, median shown), so a busy moment
// of a shared machine hits them alike. Besides throughput and latency
// percentiles, each row has CPU time and heap allocations per request,
// which vary far less than throughput, and the dqm rows the resident set
// size (VmRSS) of the process holding dqm before, during (peak) and after.
// -paths and -queries pick the rows measured (a ratio whose baseline row
// is left out stays empty). -mem-requests N runs N point requests on each
// of rest, rest_cached, client and client_cached after the first engine's
// rows, one path at a time, and reports RSS before, at the peak, at the
// end, after -mem-idle and (in-process) after debug.FreeOSMemory, heap in
// use, goroutines and the throughput of the first vs the last tenth of
// the requests (results-mem.json). -soak runs the REST point paths (rest
// and rest_cached, one window each in turn) for a long time and reports
// each window (in the report and in results-soak.json next to
// results.json), so that a decay of throughput or a growth of RSS shows.
// With -profile-dir, each
// in-process dqm row gets one more run under the CPU profiler, with the
// allocation profile written before and after it:
//
//	go tool pprof -top bench/profiles/postgres-point-rest-c32.cpu.pprof
//	go tool pprof -sample_index=alloc_space -top \
//	    -diff_base bench/profiles/postgres-point-rest-c32.allocs-base.pprof \
//	    bench/profiles/postgres-point-rest-c32.allocs.pprof
//
// Usage:
//
//	go run ./bench -out bench/REPORT.md -json bench/results.json
//	    [-n 5000 | -duration 3s] [-concurrency 1,8,32] [-runs 3]
//	    [-engines sqlite,postgres,mysql] [-workers 4] [-mode inprocess|external|both | -external]
//	    [-paths rest,rest_cached,...] [-queries point,range]
//	    [-mem-requests 1000000 [-mem-idle 30s]] [-soak 5m [-soak-window 30s]]
//	    [-profile-dir bench/profiles] [-quick]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dqmhq/dqm/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Modes of the dqm rows.
const (
	modeInProcess = "inprocess"
	modeExternal  = "external"
)

// options are the command's flags.
type options struct {
	out        string
	jsonOut    string
	n          int
	duration   time.Duration
	conc       []int
	warmup     int
	runs       int
	engines    []string
	workers    int
	modes      []string
	quick      bool
	baselines  bool
	soak       time.Duration
	syncs      []string
	soakWindow time.Duration
	profileDir string
	maxC       int
	filters    // -paths, -queries
	memOptions // -mem-requests, -mem-idle
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var engines, conc, mode string
	fs.StringVar(&o.out, "out", "", "write the Markdown report to this file (stdout always gets it)")
	fs.StringVar(&o.jsonOut, "json", "", "write the rows as a JSON array to this file (default: results.json next to -out, if -out is set)")
	fs.IntVar(&o.n, "n", 5000, "requests per measured run (ignored with -duration)")
	fs.DurationVar(&o.duration, "duration", 0, "length of each measured run (e.g. 3s) instead of -n requests")
	fs.StringVar(&conc, "concurrency", "1,8,32", "concurrency levels (comma-separated)")
	fs.IntVar(&o.warmup, "warmup", 500, "warm-up requests before each scenario")
	fs.IntVar(&o.runs, "runs", 3, "measured runs per scenario; the median run is reported")
	fs.StringVar(&engines, "engines", "sqlite,postgres,mysql", "engines to measure")
	fs.IntVar(&o.workers, "workers", 4, "fast-queue workers of dqm (min = max), and responders of the ideal loop")
	fs.StringVar(&mode, "mode", modeInProcess+",cluster", "where dqm runs, comma-separated: inprocess, external (a `dqm serve` process), both (the two), cluster (cluster_r1 and cluster_r3: a three-node NATS cluster in this process at R1 and R3; client and REST rows), all")
	external := fs.Bool("external", false, "add external to -mode")
	fs.BoolVar(&o.baselines, "baselines", true, "also measure NATS with no database (report only)")
	fs.DurationVar(&o.soak, "soak", 0, "after the first engine, run its REST point paths (rest, rest_cached: one window each in turn) for this long (e.g. 5m) and report each window")
	fs.DurationVar(&o.soakWindow, "soak-window", 30*time.Second, "window of the -soak report")
	var syncs string
	fs.StringVar(&syncs, "sync", "1s,always", "fsync policies (nats.sync) to compare on the first engine's client point path; empty: none")
	fs.StringVar(&o.profileDir, "profile-dir", "", "write CPU and allocation profiles of each in-process dqm row into this directory")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: few requests, one run")
	o.filters.register(fs)
	o.memOptions.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if err := o.filters.parse(); err != nil {
		return nil, err
	}
	if err := o.memOptions.check(); err != nil {
		return nil, err
	}
	for e := range strings.SplitSeq(engines, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if _, ok := fixtures[e]; !ok {
			return nil, fmt.Errorf("-engines: unknown engine %q (want sqlite, postgres, mysql)", e)
		}
		o.engines = append(o.engines, e)
	}
	for s := range strings.SplitSeq(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("-concurrency: %q is not a count in 1..1024", s)
		}
		if !slices.Contains(o.conc, n) {
			o.conc = append(o.conc, n)
		}
	}
	slices.Sort(o.conc)
	if *external {
		mode += "," + modeExternal
	}
	for m := range strings.SplitSeq(mode, ",") {
		var add []string
		switch m = strings.TrimSpace(m); m {
		case modeInProcess, modeExternal, modeClusterR1, modeClusterR3:
			add = []string{m}
		case "both":
			add = []string{modeInProcess, modeExternal}
		case "cluster":
			add = []string{modeClusterR1, modeClusterR3}
		case "all":
			add = []string{modeInProcess, modeExternal, modeClusterR1, modeClusterR3}
		default:
			return nil, fmt.Errorf("-mode: %q is not inprocess, external, both, cluster, cluster_r1, cluster_r3 or all", m)
		}
		for _, a := range add {
			if !slices.Contains(o.modes, a) {
				o.modes = append(o.modes, a)
			}
		}
	}
	if o.n < 1 || o.runs < 1 || o.warmup < 0 || o.duration < 0 || len(o.conc) == 0 || o.workers < 1 || o.workers > 64 {
		return nil, fmt.Errorf("-n, -runs must be >= 1, -warmup and -duration >= 0, -concurrency not empty, -workers in 1..64")
	}
	for p := range strings.SplitSeq(syncs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, _, err := (config.NATS{Sync: p}).SyncPolicy(); err != nil {
				return nil, fmt.Errorf("-sync %q: %v", p, err)
			}
			o.syncs = append(o.syncs, p)
		}
	}
	if o.soak > 0 && o.soakWindow <= 0 {
		return nil, fmt.Errorf("-soak-window must be > 0")
	}
	if o.quick {
		o.n, o.warmup, o.runs = min(o.n, 500), min(o.warmup, 100), 1
		o.duration = min(o.duration, time.Second)
	}
	if o.jsonOut == "" && o.out != "" {
		o.jsonOut = sibling(o.out, "results.json")
	}
	o.maxC = o.conc[len(o.conc)-1]
	return o, nil
}

// sibling is name in the directory of path.
func sibling(path, name string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1] + name
	}
	return name
}

func (o *options) has(mode string) bool { return slices.Contains(o.modes, mode) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	warnings := newWarnLog(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	log := slog.New(warnings)
	dir, err := os.MkdirTemp("", "dqm-bench-*")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}

	started := time.Now()
	rep := newReport(o)
	b := &bench{started: started, o: o, dir: dir, log: log, rep: rep, progress: stderr}
	if o.has(modeExternal) {
		bin, err := buildDQM(ctx, dir)
		if err != nil {
			rep.skip("external mode", err)
			fmt.Fprintf(stderr, "external mode: %v\n", err)
		}
		b.dqmBin = bin
	}
	if o.baselines {
		if err := b.baselines(ctx); err != nil {
			rep.skip("baselines", err)
		}
	}
	for _, name := range o.engines {
		if ctx.Err() != nil {
			break
		}
		if err := b.engine(ctx, name); err != nil {
			rep.skip(name, err)
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
	}
	if len(o.syncs) > 0 && len(o.engines) > 0 && ctx.Err() == nil {
		if err := b.syncCompare(ctx, o.engines[0]); err != nil {
			rep.skip("fsync comparison", err)
		}
	}
	rep.elapsed = time.Since(started)
	for _, w := range warnings.list() {
		rep.note("dqm logged: %s", w)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "interrupted")
		return 1
	}
	rows := rep.rows()
	md := rep.markdown(rows)
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, rows); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if len(rep.syncs) > 0 {
			if err := writeJSON(strings.TrimSuffix(o.jsonOut, ".json")+"-sync.json", rep.syncs); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
		}
		if len(rep.soak) > 0 {
			if err := writeJSON(strings.TrimSuffix(o.jsonOut, ".json")+"-soak.json", rep.soak); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
		}
		if len(rep.mem) > 0 {
			if err := writeJSON(strings.TrimSuffix(o.jsonOut, ".json")+"-mem.json", rep.mem); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
		}
	}
	return 0
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// bench holds what every scenario needs.
type bench struct {
	started  time.Time
	o        *options
	dir      string
	log      *slog.Logger
	rep      *report
	progress io.Writer
	dqmBin   string // the dqm binary of external mode; "" if not built
	soaked   bool   // the soak has run
}

// at is a scenario of res at concurrency c.
func (b *bench) at(res result, c int, fn op) scenario {
	res.stats.c = c
	return scenario{res: res, fn: fn}
}

// record adds a result and tells the terminal how far the run is.
func (b *bench) record(r result) {
	b.rep.add(r)
	fmt.Fprintf(b.progress, "%6.1fs %-8s %-6s %-13s %-10s c=%-3d %8.0f req/s  p50 %s  p99 %s%s\n",
		time.Since(b.started).Seconds(), r.engine, r.query, r.label(), r.mode, r.stats.c, r.stats.rps(), us(r.stats.p50), us(r.stats.p99), r.stats.errNote())
}

// warnLog passes dqm's warnings to stderr and keeps a count of each, by
// message, error and queue, for the report: a stalled queue shows there.
// Copies made by WithAttrs share the counts.
type warnLog struct {
	slog.Handler
	mu    *sync.Mutex
	seen  map[string]int
	order *[]string
	attrs []slog.Attr
}

func (h *warnLog) Handle(ctx context.Context, r slog.Record) error {
	key := r.Message
	add := func(a slog.Attr) bool {
		if a.Key == "err" || a.Key == "queue" || a.Key == "db" {
			key += " " + a.Key + "=" + a.Value.String()
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.mu.Lock()
	if h.seen[key] == 0 {
		*h.order = append(*h.order, key)
	}
	h.seen[key]++
	h.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

func (h *warnLog) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithAttrs(as)
	c.attrs = append(slices.Clip(h.attrs), as...)
	return &c
}

func (h *warnLog) WithGroup(name string) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithGroup(name)
	return &c
}

func newWarnLog(h slog.Handler) *warnLog {
	return &warnLog{Handler: h, mu: &sync.Mutex{}, seen: map[string]int{}, order: new([]string)}
}

// list is every warning with its count, in the order first seen.
func (h *warnLog) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(*h.order))
	for _, k := range *h.order {
		out = append(out, fmt.Sprintf("%s (×%d)", k, h.seen[k]))
	}
	return out
}

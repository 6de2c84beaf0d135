// Command bench measures dqm against the database drivers it wraps, in one
// run on one machine, and writes a Markdown report (make bench).
//
// Per engine (sqlite, postgres, mysql) it creates a numbers table 0..9999
// in a database of its own and runs the point query
// SELECT numbers FROM numbers WHERE numbers = :N at concurrency -c through:
//
//   - direct: the raw driver, no dqm (one prepared pgx.Conn per goroutine;
//     database/sql with MaxOpenConns = c for mysql and sqlite);
//   - jetstream+driver: JetStream publish → pull consumer → the same driver
//     → reply, with no dqm code: the ceiling of dqm's design;
//   - dqm client: a whole dqm instance in-process (server.Start), queried
//     with s.Client().Query on the fast queue of -workers workers;
//   - dqm REST: POST /api/conduit/query over keep-alive HTTP.
//
// Then the same paths one request at a time (latency), for the point query
// and the demo's range query ref 55 (500..600, 101 rows). Baselines with no
// database bound what the pipeline can do: core NATS request/reply to an
// echo responder and JetStream publish → pull → reply, over an in-process
// connection, one shared connection, loopback TCP, and a memory stream.
//
// Everything (load generator, NATS, dqm) shares this machine's cores, as in
// DESIGN.md's performance budget. The compared paths of an engine run side
// by side and their runs alternate (-runs rounds, median shown), so a busy
// moment of a shared machine hits them alike. Besides req/s and latency
// percentiles, each scenario reports this process's CPU time and heap
// allocations per request, which vary far less than throughput.
//
// Usage:
//
//	go run ./bench -out bench/REPORT.md [-n 5000] [-c 32] [-runs 3]
//	    [-engines sqlite,postgres,mysql] [-workers 4,8] [-quick]
//	    [-cpuprofile cpu.out [-profile-engine postgres]]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	out        string
	n, c       int
	warmup     int
	seq        int
	runs       int
	engines    []string
	workers    []int
	quick      bool
	cpuprofile string
	profileN   int
	profileEng string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var engines, workers string
	fs.StringVar(&o.out, "out", "", "write the Markdown report to this file (stdout always gets it)")
	fs.IntVar(&o.n, "n", 5000, "requests per throughput scenario")
	fs.IntVar(&o.c, "c", 32, "concurrency of throughput scenarios")
	fs.IntVar(&o.warmup, "warmup", 500, "warm-up requests before each scenario")
	fs.IntVar(&o.seq, "seq", 1000, "requests of each one-at-a-time (latency) scenario")
	fs.IntVar(&o.runs, "runs", 3, "measured runs per scenario; the report shows the median run")
	fs.StringVar(&engines, "engines", "sqlite,postgres,mysql", "engines to measure")
	fs.StringVar(&workers, "workers", "4,8", "fast-queue worker counts to try (min = max)")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: few requests, first worker count only")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of an extra dqm client run (first worker count) to this file")
	fs.IntVar(&o.profileN, "profile-n", 30000, "requests of the profiled dqm client run")
	fs.StringVar(&o.profileEng, "profile-engine", "postgres", "engine of the profiled run (the first engine if it is not measured)")
	if err := fs.Parse(args[1:]); err != nil {
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
	if !slices.Contains(o.engines, o.profileEng) && len(o.engines) > 0 {
		o.profileEng = o.engines[0]
	}
	for w := range strings.SplitSeq(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 || n > 64 {
			return nil, fmt.Errorf("-workers: %q is not a count in 1..64", w)
		}
		o.workers = append(o.workers, n)
	}
	if o.n < 1 || o.c < 1 || o.seq < 1 || o.runs < 1 || o.warmup < 0 || len(o.workers) == 0 {
		return nil, fmt.Errorf("-n, -c, -seq, -runs must be >= 1, -warmup >= 0, -workers not empty")
	}
	if o.quick {
		o.n, o.warmup, o.seq, o.profileN, o.runs = min(o.n, 500), min(o.warmup, 100), min(o.seq, 200), min(o.profileN, 2000), 1
		o.workers = o.workers[:1]
	}
	return o, nil
}

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

	started := time.Now()
	rep := newReport(o)
	b := &bench{started: started, o: o, dir: dir, log: log, rep: rep, progress: stderr}
	if err := b.baselines(ctx); err != nil {
		rep.skip("baselines", err)
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
	rep.elapsed = time.Since(started)
	for _, w := range warnings.list() {
		rep.note("dqm logged: %s", w)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "interrupted")
		return 1
	}
	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	return 0
}

// bench holds what every scenario needs.
type bench struct {
	started  time.Time
	o        *options
	dir      string
	log      *slog.Logger
	rep      *report
	progress io.Writer
}

// record adds a result and tells the terminal how far the run is.
func (b *bench) record(r result) {
	b.rep.add(r)
	fmt.Fprintf(b.progress, "%5.1fs %-8s %-8s %-70s c=%-3d %6.0f req/s  p50 %s  p99 %s  max %s%s\n",
		time.Since(b.started).Seconds(), r.section, r.engine, r.label(), r.stats.c, r.stats.rps(), ms(r.stats.p50), ms(r.stats.p99), ms(r.stats.worst), r.stats.errNote())
}

// profile runs fn under the CPU profiler if asked to profile engine.
func (b *bench) profile(engine string, fn func()) error {
	if b.o.cpuprofile == "" || engine != b.o.profileEng {
		return nil
	}
	f, err := os.Create(b.o.cpuprofile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	fn()
	pprof.StopCPUProfile()
	return nil
}

// engine measures one engine. Every path runs at once (the direct driver,
// the jetstream+driver loop, one dqm instance per worker count) so that
// their runs can alternate: a busy moment of the machine then hits each
// path alike.
func (b *bench) engine(ctx context.Context, name string) error {
	fmt.Fprintf(b.progress, "%5.1fs == %s\n", time.Since(b.started).Seconds(), name)
	fx, err := fixtures[name](ctx, b.dir)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer fx.close()
	o := b.o
	w0 := o.workers[0]

	drv, err := fx.open(ctx, o.c)
	if err != nil {
		return fmt.Errorf("direct driver: %w", err)
	}
	defer drv.close()
	tput := []scenario{b.atC(result{engine: name, path: pathDirect}, drv.pointOp())}
	seq := []scenario{
		b.oneByOne(result{engine: name, query: qPoint, path: pathDirect}, drv.pointOp()),
		b.oneByOne(result{engine: name, query: qRange, path: pathDirect}, drv.rangeOp()),
	}

	// JetStream + driver, no dqm: the design's ceiling.
	jsOp, jsStop, err := b.jetstreamDriver(ctx, fx, w0)
	if err != nil {
		b.rep.note("%s: jetstream+driver: %v", name, err)
	} else {
		defer jsStop()
		tput = append(tput, b.atC(result{engine: name, path: pathJSDriver, workers: w0}, jsOp))
		seq = append(seq, b.oneByOne(result{engine: name, query: qPoint, path: pathJSDriver, workers: w0}, jsOp))
	}

	var first *dqm
	for _, w := range o.workers {
		d, err := startDQM(ctx, b.dir, fx, w, b.log)
		if err != nil {
			// The other paths are still worth measuring (an engine not
			// yet built into the server, say).
			b.rep.note("%s: dqm with %d workers did not start: %v", name, w, err)
			break
		}
		defer d.stop()
		tput = append(tput,
			b.atC(result{engine: name, path: pathClient, workers: w}, d.clientPointOp()),
			b.atC(result{engine: name, path: pathREST, workers: w}, d.restPointOp(o.c)))
		if first == nil {
			first = d
			seq = append(seq,
				b.oneByOne(result{engine: name, query: qPoint, path: pathClient, workers: w}, d.clientPointOp()),
				b.oneByOne(result{engine: name, query: qPoint, path: pathREST, workers: w}, d.restPointOp(1)),
				b.oneByOne(result{engine: name, query: qRange, path: pathClient, workers: w}, d.clientRangeOp()),
				b.oneByOne(result{engine: name, query: qRange, path: pathREST, workers: w}, d.restRangeOp()))
		}
	}
	b.measureAll(ctx, tput)
	b.measureAll(ctx, seq)
	if first == nil {
		return nil
	}
	err = b.profile(name, func() {
		fmt.Fprintf(b.progress, "profiling %d dqm client requests on %s (w=%d)\n", o.profileN, name, w0)
		load(ctx, o.profileN, o.c, first.clientPointOp())
	})
	if err != nil {
		b.rep.note("cpu profile: %v", err)
	}
	return nil
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

// ms formats a duration in milliseconds with microsecond precision.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

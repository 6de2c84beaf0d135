package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Report sections.
const (
	secBaseline = "baseline"
	secRows     = "rows"
)

// Paths measured: the JSON rows' "path", and the baselines' names.
const (
	pathDirect       = "direct"
	pathIdeal        = "ideal"
	pathIdealHTTP    = "ideal_http"
	pathFloor        = "http_floor"
	pathClient       = "client"
	pathClientCached = "client_cached"
	pathREST         = "rest"
	pathRESTCached   = "rest_cached"
	pathClientDirect = "client_direct"
	pathRESTDirect   = "rest_direct"

	pathCoreNATS  = "core NATS request/reply, echo"
	pathJetStream = "JetStream publish → pull → reply"
)

// rowPaths are the rows' paths in the order of the report's tables.
var rowPaths = []string{pathDirect, pathIdeal, pathClient, pathClientDirect, pathClientCached, pathIdealHTTP, pathREST, pathRESTDirect, pathFloor, pathRESTCached}

// Queries.
const (
	qPoint = "point"
	qRange = "range"
)

// idealOf is the path a row's ratio_to_ideal compares it with.
var idealOf = map[string]string{
	pathClient:       pathIdeal,
	pathClientCached: pathIdeal,
	pathClientDirect: pathIdeal,
	pathREST:         pathIdealHTTP,
	pathRESTCached:   pathFloor,
	pathRESTDirect:   pathIdealHTTP,
}

// result is one measured scenario.
type result struct {
	section string
	engine  string
	mode    string
	query   string
	path    string
	conn    string // baselines: how NATS is reached
	workers int    // dqm workers, or responders of a JetStream loop
	stats   stats
}

func (r result) label() string {
	s := r.path
	if r.conn != "" {
		s += " (" + r.conn + ")"
	}
	return s
}

// row is one line of results.json.
type row struct {
	Engine      string  `json:"engine"`
	Mode        string  `json:"mode"`
	Path        string  `json:"path"`
	Query       string  `json:"query"`
	Cached      bool    `json:"cached"`
	Concurrency int     `json:"concurrency"`
	Workers     int     `json:"workers,omitempty"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	P999us      float64 `json:"p999_us"`
	// AllocsPerOp is null for external rows: the allocations that matter
	// are in the other process.
	AllocsPerOp   *float64 `json:"allocs_per_op"`
	CPUusPerOp    float64  `json:"cpu_us_per_op"`
	RatioToDirect *float64 `json:"ratio_to_direct"`
	RatioToIdeal  *float64 `json:"ratio_to_ideal"`
	// Runs is how many runs were measured; the row is the median one, with
	// the slowest and fastest runs' throughput.
	Runs         int     `json:"runs"`
	OpsPerSecMin float64 `json:"ops_per_sec_min"`
	OpsPerSecMax float64 `json:"ops_per_sec_max"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	// RSS of the process holding dqm (KiB), dqm rows only.
	RSSBeforeKB int64 `json:"rss_before_kb,omitempty"`
	RSSPeakKB   int64 `json:"rss_peak_kb,omitempty"`
	RSSAfterKB  int64 `json:"rss_after_kb,omitempty"`
}

// report collects results and renders them.
type report struct {
	o       *options
	date    time.Time
	results []result
	soak    []soakWindow
	mem     []memRun
	syncs   []syncRow
	skipped []string
	notes   []string
	elapsed time.Duration
	loadavg string
}

func newReport(o *options) *report { return &report{o: o, date: time.Now(), loadavg: loadAverage()} }

func (r *report) add(res result) { r.results = append(r.results, res) }

func (r *report) skip(what string, err error) {
	r.skipped = append(r.skipped, fmt.Sprintf("%s skipped: %v", what, err))
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func micros(d time.Duration) float64 { return round(float64(d)/float64(time.Microsecond), 1) }

// rows are the measured rows, with their ratios.
func (r *report) rows() []row {
	var out []row
	for _, res := range r.results {
		if res.section != secRows {
			continue
		}
		s := res.stats
		w := row{
			Engine: res.engine, Mode: res.mode, Path: res.path, Query: res.query,
			Cached: res.path == pathClientCached || res.path == pathRESTCached, Concurrency: s.c, Workers: res.workers,
			OpsPerSec: round(s.rps(), 1), P50us: micros(s.p50), P99us: micros(s.p99), P999us: micros(s.p999),
			CPUusPerOp: round(float64(s.cpu)/float64(time.Microsecond), 1),
			Runs:       s.runs, OpsPerSecMin: round(s.minRPS, 1), OpsPerSecMax: round(s.maxRPS, 1),
			Requests: s.n, Errors: s.errorsAll,
			RSSBeforeKB: s.rssBefore, RSSPeakKB: s.rssPeak, RSSAfterKB: s.rssAfter,
		}
		if s.firstErr != nil {
			w.FirstError = s.firstErr.Error()
		}
		if s.allocs >= 0 {
			a := round(s.allocs, 1)
			w.AllocsPerOp = &a
		}
		out = append(out, w)
	}
	find := func(like row, path string) (row, bool) {
		for _, w := range out {
			if w.Engine == like.Engine && w.Query == like.Query && w.Concurrency == like.Concurrency && w.Path == path {
				return w, true
			}
		}
		return row{}, false
	}
	for i, w := range out {
		if d, ok := find(w, pathDirect); ok && d.OpsPerSec > 0 {
			v := round(w.OpsPerSec/d.OpsPerSec, 3)
			out[i].RatioToDirect = &v
		}
		if p, ok := idealOf[w.Path]; ok {
			if d, ok := find(w, p); ok && d.OpsPerSec > 0 {
				v := round(w.OpsPerSec/d.OpsPerSec, 3)
				out[i].RatioToIdeal = &v
			}
		}
	}
	return out
}

func (r *report) markdown(rows []row) string {
	var b strings.Builder
	o := r.o
	fmt.Fprintf(&b, "# dqm benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s (run took %s)\n", r.date.Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "- machine: %d CPUs (%s), %s/%s, %s, GOMAXPROCS=%d\n",
		runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "- load average when the run started: %s (the machine may be shared)\n", r.loadavg)
	each := fmt.Sprintf("%d requests", o.n)
	if o.duration > 0 {
		each = o.duration.String()
	}
	fmt.Fprintf(&b, "- each row: %d warm-up requests, then %d measured runs of %s; the median run by throughput is shown (min–max: the spread of the runs); the rows of one engine, query and concurrency alternate their runs\n",
		o.warmup, o.runs, each)
	fmt.Fprintf(&b, "- modes: %s; dqm's fast queue has min = max = %d workers, the ideal loop %d responders\n", strings.Join(o.modes, ", "), o.workers, o.workers)
	b.WriteString("- paths: direct = the raw driver; ideal = JetStream publish → pull → the same driver → reply, no dqm code; ideal_http = ideal behind a minimal net/http handler; http_floor = a net/http handler writing a fixed reply; client / client_cached = dqm's Go client, uncached / near-cache hits; client_direct = the Go client with ingress.Direct() on a direct entry (core NATS request/reply to the workers, no JetStream); rest / rest_cached = POST /api/conduit/query, uncached / instance-cache hits; rest_direct = the same POST on a direct entry (the REST adapter sends it on the direct lane). The HTTP rows share one client and server configuration. direct, ideal, ideal_http and http_floor run in the bench process; external dqm rows are compared with them too\n")
	b.WriteString("- CPU/op: user + system CPU per request of the bench process (load generator, NATS, in-process dqm; the database only for SQLite) plus, for external rows, the dqm process; allocs/op: the bench process's heap allocations per request (not shown for external rows)\n")
	b.WriteString("- point: `SELECT numbers FROM numbers WHERE numbers = :N`, N spread over 0..9999; range: `... WHERE numbers >= 500 AND numbers <= 600` (101 rows)\n")
	r.guide(&b)
	b.WriteString("\n")
	if o.quick {
		b.WriteString("**Quick (smoke) run: numbers are not meaningful.**\n\n")
	}

	r.targets(&b, rows)

	for _, e := range o.engines {
		for _, q := range []string{qPoint, qRange} {
			var these []row
			for _, w := range rows {
				if w.Engine == e && w.Query == q {
					these = append(these, w)
				}
			}
			if len(these) == 0 {
				continue
			}
			slices.SortStableFunc(these, func(a, b row) int {
				if a.Concurrency != b.Concurrency {
					return a.Concurrency - b.Concurrency
				}
				if d := slices.Index(rowPaths, a.Path) - slices.Index(rowPaths, b.Path); d != 0 {
					return d
				}
				return strings.Compare(a.Mode, b.Mode)
			})
			fmt.Fprintf(&b, "## %s, %s query\n\n", e, q)
			b.WriteString("| c | path | mode | ops/s | runs min–max | p50 µs | p99 µs | p99.9 µs | CPU µs/op | allocs/op | ÷ direct | ÷ ideal | errors |\n")
			b.WriteString("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			for _, w := range these {
				toDirect, toIdeal := optNum(w.RatioToDirect, "%.2f×"), optNum(w.RatioToIdeal, "%.2f×")
				// The ratios with a target are in bold.
				if w.Engine == targetEngine && w.Query == qPoint && w.Concurrency == targetC {
					switch w.Path {
					case pathClientCached, pathClientDirect:
						toDirect = "**" + toDirect + "**"
					case pathClient, pathREST, pathRESTCached:
						toIdeal = "**" + toIdeal + "**"
					}
				}
				fmt.Fprintf(&b, "| %d | %s | %s | %.0f | %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %s | %d |\n",
					w.Concurrency, w.Path, w.Mode, w.OpsPerSec, spreadRow(w), w.P50us, w.P99us, w.P999us, w.CPUusPerOp,
					optNum(w.AllocsPerOp, "%.0f"), toDirect, toIdeal, w.Errors)
			}
			b.WriteString("\n")
		}
	}

	replicationCost(&b, rows)
	r.memory(&b, rows)
	r.memTable(&b)
	r.soakTable(&b)
	r.syncTable(&b)
	r.baselines(&b)

	var problems []string
	problems = append(problems, r.skipped...)
	problems = append(problems, r.notes...)
	for _, w := range rows {
		if w.Errors > 0 {
			problems = append(problems, fmt.Sprintf("%s %s %s %s c=%d: %d errors in %d runs, first: %s", w.Engine, w.Query, w.Path, w.Mode, w.Concurrency, w.Errors, w.Runs, w.FirstError))
		}
	}
	if len(problems) > 0 {
		b.WriteString("## Skipped and errors\n\n")
		for _, p := range problems {
			b.WriteString("- " + p + "\n")
		}
	}
	return b.String()
}

// The targets are measured on PostgreSQL's point query at c = 32.
const (
	targetEngine = "postgres"
	targetC      = 32
)

// targets reports the performance targets, per mode: met or not met,
// never asserted.
func (r *report) targets(b *strings.Builder, rows []row) {
	const engine, c = targetEngine, targetC
	get := func(path, mode string, conc int) (row, bool) {
		for _, w := range rows {
			if w.Engine == engine && w.Query == qPoint && w.Concurrency == conc && w.Path == path && (w.Mode == mode || w.Mode == modeInProcess && !isDQM(path)) {
				return w, true
			}
		}
		return row{}, false
	}
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**not met**"
	}
	fmt.Fprintf(b, "## Targets (PostgreSQL, point query, c = %d)\n\n", c)
	b.WriteString("From the issue \"Performance\"; their ratios are in bold in the PostgreSQL point table. External rows are compared with the same in-process baselines.\n\n")
	b.WriteString("| mode | target | goal | measured | result |\n|---|---|---|---:|---|\n")
	for _, mode := range r.o.modes {
		if isClusterMode(mode) {
			continue // no targets: their cost is replicationCost's
		}
		ratio := func(name, num, den string, goal float64) {
			n, ok1 := get(num, mode, c)
			d, ok2 := get(den, mode, c)
			if !ok1 || !ok2 || d.OpsPerSec == 0 {
				fmt.Fprintf(b, "| %s | %s | ≥ %.2g× | – | not measured |\n", mode, name, goal)
				return
			}
			v := n.OpsPerSec / d.OpsPerSec
			fmt.Fprintf(b, "| %s | %s | ≥ %.2g× | %.2f× | %s |\n", mode, name, goal, v, verdict(v >= goal))
		}
		ratio("client ÷ ideal", pathClient, pathIdeal, 0.9)
		ratio("rest ÷ ideal_http", pathREST, pathIdealHTTP, 0.85)
		ratio("rest_cached ÷ http_floor", pathRESTCached, pathFloor, 0.9)
		rc, ok1 := get(pathRESTCached, mode, 1)
		hf, ok2 := get(pathFloor, mode, 1)
		if ok1 && ok2 {
			d := rc.P50us - hf.P50us
			fmt.Fprintf(b, "| %s | rest_cached p50 − http_floor p50 at c = 1 | ≤ 25 µs | %.0f µs | %s |\n", mode, d, verdict(d <= 25))
		} else {
			fmt.Fprintf(b, "| %s | rest_cached p50 − http_floor p50 at c = 1 | ≤ 25 µs | – | not measured |\n", mode)
		}
		ratio("client_cached ÷ direct", pathClientCached, pathDirect, 5)
		ratio("client_direct ÷ direct (keep the lane)", pathClientDirect, pathDirect, 0.45)
	}
	b.WriteString("\n")
}

func isDQM(path string) bool { _, ok := idealOf[path]; return ok }

// memory is the RSS of the process holding dqm around each dqm row.
func (r *report) memory(b *strings.Builder, rows []row) {
	var these []row
	for _, w := range rows {
		if w.RSSPeakKB > 0 {
			these = append(these, w)
		}
	}
	if len(these) == 0 {
		return
	}
	b.WriteString("## Memory\n\n")
	b.WriteString("VmRSS of the process holding dqm (the bench process for inprocess rows, which also holds the load generator and the other paths; the `dqm serve` process for external rows): before the row's first run, the peak sampled every 20 ms during its runs, after its last run.\n\n")
	b.WriteString("| engine | query | c | path | mode | before MiB | peak MiB | after MiB |\n|---|---|---:|---|---|---:|---:|---:|\n")
	for _, w := range these {
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %.1f | %.1f | %.1f |\n", w.Engine, w.Query, w.Concurrency, w.Path, w.Mode,
			mib(w.RSSBeforeKB), mib(w.RSSPeakKB), mib(w.RSSAfterKB))
	}
	b.WriteString("\n")
}

func (r *report) soakTable(b *strings.Builder) {
	if len(r.soak) == 0 {
		return
	}
	w0 := r.soak[0]
	// The mode and path pairs, in the order of their first windows.
	type key struct{ mode, path string }
	var keys []key
	var paths []string
	for _, w := range r.soak {
		if k := (key{w.Mode, w.Path}); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		if !slices.Contains(paths, w.Path) {
			paths = append(paths, w.Path)
		}
	}
	turn := ""
	if len(paths) > 1 {
		turn = ", one window each in turn"
	}
	fmt.Fprintf(b, "## Soak: %s, %s point query, c = %d, %s in %s windows%s\n\n", w0.Engine, strings.Join(paths, " and "), w0.Concurrency, r.o.soak, r.o.soakWindow, turn)
	b.WriteString("| mode | path | from s | ops/s | ÷ first | p50 µs | p99 µs | RSS MiB | peak MiB | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range r.soak {
		fmt.Fprintf(b, "| %s | %s | %.0f | %.0f | %.2f× | %.0f | %.0f | %.1f | %.1f | %d |\n", w.Mode, w.Path, w.StartS, w.OpsPerSec, w.ThroughputDecay, w.P50us, w.P99us, mib(w.RSSKB), mib(w.RSSPeakKB), w.Errors)
	}
	b.WriteString("\n")
	for _, k := range keys {
		var first, last soakWindow
		n := 0
		for _, w := range r.soak {
			if w.Mode == k.mode && w.Path == k.path {
				if n == 0 {
					first = w
				}
				last = w
				n++
			}
		}
		fmt.Fprintf(b, "- %s, %s (%d windows): throughput last window ÷ first window = %.2f×; RSS first → last %.1f → %.1f MiB\n",
			k.path, k.mode, n, last.ThroughputDecay, mib(first.RSSKB), mib(last.RSSKB))
	}
	b.WriteString("\n")
}

func (r *report) baselines(b *strings.Builder) {
	var any bool
	for _, res := range r.results {
		if res.section != secBaseline {
			continue
		}
		if !any {
			b.WriteString("## Baselines: NATS with no database\n\n")
			b.WriteString("| path | connection | responders | c | ops/s | runs min–max | p50 µs | p99 µs | CPU µs/op | allocs/op | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			any = true
		}
		s := res.stats
		fmt.Fprintf(b, "| %s | %s | %s | %d | %.0f | %s | %.0f | %.0f | %.0f | %.0f | %d |\n", res.path, res.conn, count(res.workers), s.c,
			s.rps(), spread(s), micros(s.p50), micros(s.p99), micros(s.cpu), s.allocs, s.errorsAll)
	}
	if any {
		b.WriteString("\n")
	}
}

func mib(kb int64) float64 { return float64(kb) / 1024 }

func optNum(v *float64, format string) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf(format, *v)
}

func spreadRow(w row) string {
	if w.Runs < 2 {
		return "–"
	}
	return fmt.Sprintf("%.0f–%.0f", w.OpsPerSecMin, w.OpsPerSecMax)
}

// spread is the slowest and fastest runs' throughput.
func spread(s stats) string {
	if s.runs < 2 {
		return "–"
	}
	return fmt.Sprintf("%.0f–%.0f", s.minRPS, s.maxRPS)
}

// us formats a duration in microseconds.
func us(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func count(n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprint(n)
}

// loadAverage is the 1, 5 and 15 minute load averages, if known.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is the processor's name from /proc/cpuinfo, if there is one.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Report sections.
const (
	secBaseline   = "baseline"
	secThroughput = "load"
	secSequential = "serial"
)

// Paths measured.
const (
	pathDirect    = "direct driver"
	pathJSDriver  = "jetstream + driver (no dqm)"
	pathClient    = "dqm Go client"
	pathREST      = "dqm REST"
	pathCoreNATS  = "core NATS request/reply, echo"
	pathJetStream = "JetStream publish → pull → reply"
)

// Queries of the one-at-a-time section.
const (
	qPoint = "point (ref 2)"
	qRange = "range 500..600, 101 rows (ref 55)"
)

// result is one measured scenario.
type result struct {
	section string
	engine  string
	query   string
	path    string
	conn    string // baselines: how NATS is reached
	workers int    // dqm workers, or responders of a JetStream loop
	stats   stats
}

func (r result) label() string {
	s := r.path
	if r.query != "" {
		s = r.query + ", " + s
	}
	if r.conn != "" {
		s += " (" + r.conn + ")"
	}
	if r.workers > 0 {
		s += fmt.Sprintf(" w=%d", r.workers)
	}
	return s
}

// report collects results and renders them as Markdown.
type report struct {
	o       *options
	date    time.Time
	results []result
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

// find returns the first result matching every non-empty field of want
// (and its workers and concurrency, if non-zero).
func (r *report) find(want result) (result, bool) {
	for _, res := range r.results {
		if res.section == want.section && res.path == want.path &&
			(want.engine == "" || res.engine == want.engine) &&
			(want.query == "" || res.query == want.query) &&
			(want.conn == "" || res.conn == want.conn) &&
			(want.workers == 0 || res.workers == want.workers) &&
			(want.stats.c == 0 || res.stats.c == want.stats.c) {
			return res, true
		}
	}
	return result{}, false
}

func (r *report) markdown() string {
	var b strings.Builder
	o := r.o
	fmt.Fprintf(&b, "# dqm benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s (run took %s)\n", r.date.Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "- machine: %d CPUs (%s), %s/%s, %s, GOMAXPROCS=%d\n",
		runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "- load average when the run started: %s (the machine may be shared)\n", r.loadavg)
	fmt.Fprintf(&b, "- load: %d requests per scenario at concurrency %d after %d warm-up requests; one-at-a-time scenarios %d requests; each measured %d times, the median run shown (runs min–max: the spread)\n",
		o.n, o.c, o.warmup, o.seq, o.runs)
	fmt.Fprintf(&b, "- CPU/req: this process's user + system CPU per request (load generator, nats-server, dqm; the database itself only for SQLite); allocs/req: this process's heap allocations per request\n")
	fmt.Fprintf(&b, "- one process holds the load generator, the embedded nats-server and dqm; the databases run on the same cores\n")
	fmt.Fprintf(&b, "- dqm: fast queue min = max = w workers (w in %v), slow queue 1 worker, one NATS connection per instance (in-process); JetStream loops use w = %d responders\n",
		o.workers, o.workers[0])
	fmt.Fprintf(&b, "- latencies are per request, nearest-rank percentiles of the median run's sorted durations; max is the slowest request of all runs; errors count all runs\n\n")
	if o.quick {
		b.WriteString("**Quick (smoke) run: numbers are not meaningful.**\n\n")
	}

	b.WriteString("## Baselines: NATS with no database\n\n")
	b.WriteString("| path | connection | responders | c | req/s | runs min–max | p50 | p99 | max | CPU/req | allocs/req | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, res := range r.results {
		if res.section != secBaseline {
			continue
		}
		s := res.stats
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %.0f | %d |\n", res.path, res.conn, count(res.workers), s.c,
			s.rps(), spread(s), ms(s.p50), ms(s.p99), ms(s.worst), us(s.cpu), s.allocs, s.allErrors())
	}

	fmt.Fprintf(&b, "\n## Point query at concurrency %d\n\n", o.c)
	b.WriteString("`SELECT numbers FROM numbers WHERE numbers = :N`, N spread over 0..9999.\n\n")
	b.WriteString("| engine | path | workers | req/s | runs min–max | p50 | p99 | max | req/s ÷ direct | p50 ÷ direct | req/s ÷ js+driver | CPU/req | allocs/req | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, res := range r.results {
		if res.section != secThroughput {
			continue
		}
		s := res.stats
		direct, _ := r.find(result{section: secThroughput, engine: res.engine, path: pathDirect})
		jsd, okJS := r.find(result{section: secThroughput, engine: res.engine, path: pathJSDriver})
		vsJS := "–"
		if okJS && res.path != pathDirect {
			vsJS = ratio(s.rps(), jsd.stats.rps())
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %d |\n", res.engine, res.path, count(res.workers),
			s.rps(), spread(s), ms(s.p50), ms(s.p99), ms(s.worst), ratio(s.rps(), direct.stats.rps()),
			ratio(float64(s.p50), float64(direct.stats.p50)), vsJS, us(s.cpu), s.allocs, s.allErrors())
	}

	b.WriteString("\n## One request at a time (c = 1)\n\n")
	b.WriteString("| engine | query | path | req/s | p50 | p99 | max | p50 ÷ direct | CPU/req | allocs/req | errors |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, res := range r.results {
		if res.section != secSequential {
			continue
		}
		s := res.stats
		direct, _ := r.find(result{section: secSequential, engine: res.engine, query: res.query, path: pathDirect})
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %.0f | %d |\n", res.engine, res.query, res.path,
			s.rps(), ms(s.p50), ms(s.p99), ms(s.worst), ratio(float64(s.p50), float64(direct.stats.p50)), us(s.cpu), s.allocs, s.allErrors())
	}

	if lines := r.interpret(); len(lines) > 0 {
		b.WriteString("\n## Where the time goes\n\n")
		for _, l := range lines {
			b.WriteString("- " + l + "\n")
		}
	}
	var problems []string
	problems = append(problems, r.skipped...)
	problems = append(problems, r.notes...)
	for _, res := range r.results {
		if res.stats.allErrors() > 0 {
			problems = append(problems, fmt.Sprintf("%s %s: %d errors in %d runs, first: %v", res.engine, res.label(), res.stats.allErrors(), res.stats.runs, res.stats.firstErr))
		}
	}
	if len(problems) > 0 {
		b.WriteString("\n## Skipped and errors\n\n")
		for _, p := range problems {
			b.WriteString("- " + p + "\n")
		}
	}
	return b.String()
}

// interpret turns the numbers into a few sentences.
func (r *report) interpret() []string {
	var out []string
	core, okCore := r.find(result{section: secBaseline, path: pathCoreNATS, conn: inProcess.String()})
	js, okJS := r.find(result{section: secBaseline, path: pathJetStream, conn: inProcess.String()})
	if okCore && okJS {
		out = append(out, fmt.Sprintf("Queueing through JetStream (publish with PubAck, pull, reply, ack) caps the pipeline at %.0f req/s with no database, %s of a core NATS request/reply (%.0f req/s): that is the floor of dqm's cost, before any database work.",
			js.stats.rps(), ratio(js.stats.rps(), core.stats.rps()), core.stats.rps()))
	}
	coreTCP, ok1 := r.find(result{section: secBaseline, path: pathCoreNATS, conn: loopbackTCP.String()})
	jsTCP, ok2 := r.find(result{section: secBaseline, path: pathJetStream, conn: loopbackTCP.String()})
	jsShared, ok3 := r.find(result{section: secBaseline, path: pathJetStream, conn: inProcessShared.String()})
	if okCore && okJS && ok1 && ok2 {
		s := fmt.Sprintf("Loopback TCP instead of an in-process connection: core NATS %s, JetStream %s of the in-process throughput",
			ratio(coreTCP.stats.rps(), core.stats.rps()), ratio(jsTCP.stats.rps(), js.stats.rps()))
		if ok3 {
			s += fmt.Sprintf("; requester and responders on one shared connection (as a dqm instance runs): %s", ratio(jsShared.stats.rps(), js.stats.rps()))
		}
		if mem, ok := r.find(result{section: secBaseline, path: pathJetStream, conn: jsOptions{conn: inProcess, storage: jetstream.MemoryStorage}.String()}); ok {
			s += fmt.Sprintf("; a memory-storage stream instead of a file one: %s", ratio(mem.stats.rps(), js.stats.rps()))
		}
		out = append(out, s+".")
	}
	for _, e := range r.o.engines {
		direct, ok := r.find(result{section: secThroughput, engine: e, path: pathDirect})
		if !ok {
			continue
		}
		w := r.o.workers[0]
		client, okC := r.find(result{section: secThroughput, engine: e, path: pathClient, workers: w})
		if !okC {
			continue
		}
		s := fmt.Sprintf("%s: the dqm Go client (w=%d) does %.0f req/s, %s of the direct driver (p50 %s vs %s)",
			e, w, client.stats.rps(), ratio(client.stats.rps(), direct.stats.rps()), ms(client.stats.p50), ms(direct.stats.p50))
		if jsd, ok := r.find(result{section: secThroughput, engine: e, path: pathJSDriver}); ok {
			s += fmt.Sprintf("; the same loop without dqm's code (jetstream + driver) does %.0f req/s, so dqm's own work costs %.0f%% of that ceiling (budget: ~10%%): %s of CPU and %.0f allocations per request more (%s vs %s)",
				jsd.stats.rps(), 100*(1-client.stats.rps()/jsd.stats.rps()),
				us(client.stats.cpu-jsd.stats.cpu), client.stats.allocs-jsd.stats.allocs, us(client.stats.cpu), us(jsd.stats.cpu))
		}
		if rest, ok := r.find(result{section: secThroughput, engine: e, path: pathREST, workers: w}); ok {
			s += fmt.Sprintf("; REST reaches %s of the Go client", ratio(rest.stats.rps(), client.stats.rps()))
		}
		for _, w2 := range r.o.workers[1:] {
			if c2, ok := r.find(result{section: secThroughput, engine: e, path: pathClient, workers: w2}); ok {
				s += fmt.Sprintf("; %d workers instead of %d: %s", w2, w, ratio(c2.stats.rps(), client.stats.rps()))
			}
		}
		out = append(out, s+".")
	}
	var parts []string
	if j, ok := r.find(result{section: secBaseline, path: pathJetStream, conn: inProcess.String(), stats: stats{c: 1}}); ok {
		if c, ok := r.find(result{section: secBaseline, path: pathCoreNATS, conn: inProcess.String(), stats: stats{c: 1}}); ok {
			parts = append(parts, fmt.Sprintf("with no database core NATS takes %s and JetStream %s", ms(c.stats.p50), ms(j.stats.p50)))
		}
	}
	for _, e := range r.o.engines {
		d, ok1 := r.find(result{section: secSequential, engine: e, query: qPoint, path: pathDirect})
		j, ok2 := r.find(result{section: secSequential, engine: e, query: qPoint, path: pathJSDriver})
		c, ok3 := r.find(result{section: secSequential, engine: e, query: qPoint, path: pathClient})
		h, ok4 := r.find(result{section: secSequential, engine: e, query: qPoint, path: pathREST})
		if ok1 && ok2 && ok3 && ok4 {
			parts = append(parts, fmt.Sprintf("%s %s direct → %s jetstream + driver → %s Go client → %s REST",
				e, ms(d.stats.p50), ms(j.stats.p50), ms(c.stats.p50), ms(h.stats.p50)))
		}
	}
	if len(parts) > 0 {
		out = append(out, "One request at a time (p50 of the point query): "+strings.Join(parts, "; ")+
			". The queue's round trips, not the database, set the latency; dqm's own work and REST each add a step on top.")
	}
	return out
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
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

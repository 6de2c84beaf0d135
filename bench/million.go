package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/bits"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// memOptions are -mem-requests and -mem-idle: after the first engine's
// rows, N requests on each of rest, rest_cached, client and client_cached
// (point query, highest concurrency), with the memory of the process
// holding dqm before, during and after, and the throughput of the first
// and the last tenth of the requests.
type memOptions struct {
	memRequests int
	memIdle     time.Duration
}

func (m *memOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&m.memRequests, "mem-requests", 0, "after the first engine, run this many requests (e.g. 1000000) on each of rest, rest_cached, client, client_cached (point query, highest concurrency) and report RSS, heap, goroutines and throughput decay; 0: off")
	fs.DurationVar(&m.memIdle, "mem-idle", 30*time.Second, "idle time after each -mem-requests run before RSS is read again")
}

func (m *memOptions) check() error {
	if m.memRequests != 0 && m.memRequests < 100 {
		return fmt.Errorf("-mem-requests must be 0 (off) or >= 100")
	}
	if m.memIdle < 0 {
		return fmt.Errorf("-mem-idle must be >= 0")
	}
	return nil
}

// memPaths are the paths of -mem-requests, in the order they run.
var memPaths = []string{pathREST, pathRESTCached, pathClient, pathClientCached}

// soakPaths are the paths of -soak: one window each in turn.
var soakPaths = []string{pathREST, pathRESTCached}

// afterRows runs -mem-requests, then -soak, on the targets of the first
// engine that has any, after its rows.
func (b *bench) afterRows(ctx context.Context, engine string, targets []*target) {
	o := b.o
	if b.soaked || (o.soak <= 0 && o.memRequests <= 0) {
		return
	}
	if b.targetModes() == nil {
		b.soaked = true
		b.rep.note("-mem-requests and -soak: -paths selects no dqm path")
		return
	}
	if len(targets) == 0 {
		return // the next engine may have some
	}
	b.soaked = true
	if o.memRequests > 0 {
		ran := false
		for _, t := range targets {
			for _, p := range memPaths {
				if ctx.Err() != nil {
					return
				}
				if o.want(p) {
					b.rep.mem = append(b.rep.mem, b.memRun(ctx, engine, t, p))
					ran = true
				}
			}
		}
		if !ran {
			b.rep.note("-mem-requests: -paths selects none of %s", strings.Join(memPaths, ", "))
		}
	}
	if o.soak > 0 {
		var hcs []*http.Client
		for _, t := range targets {
			var ps []soakPath
			for _, p := range soakPaths {
				if o.want(p) {
					hc := httpClient(o.maxC)
					hcs = append(hcs, hc)
					ps = append(ps, soakPath{path: p, fn: restOp(hc, t.url, qPoint, restBodies(qPoint, refOf(qPoint, p == pathRESTCached)), o.maxC)})
				}
			}
			if len(ps) == 0 {
				b.rep.note("-soak: -paths selects none of %s", strings.Join(soakPaths, ", "))
				break
			}
			b.soak(ctx, engine, t, ps)
		}
		for _, hc := range hcs {
			hc.CloseIdleConnections()
		}
	}
}

// memRun is one -mem-requests run (results-mem.json). RSS is of the
// process holding dqm; heap and goroutines are this process's runtime
// (inprocess) or the dqm process's /metrics (external), absent if unknown.
type memRun struct {
	Engine      string  `json:"engine"`
	Mode        string  `json:"mode"`
	Path        string  `json:"path"`
	Query       string  `json:"query"`
	Cached      bool    `json:"cached"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	// FirstTenthOpsPerSec and LastTenthOpsPerSec are the throughput of
	// the first and the last 10 % of the requests; ThroughputDecay is
	// last ÷ first (below 1: the path slowed down).
	FirstTenthOpsPerSec float64 `json:"first_tenth_ops_per_sec"`
	LastTenthOpsPerSec  float64 `json:"last_tenth_ops_per_sec"`
	ThroughputDecay     float64 `json:"throughput_decay"`
	P50us               float64 `json:"p50_us"`
	P99us               float64 `json:"p99_us"`
	Errors              int     `json:"errors"`
	FirstError          string  `json:"first_error,omitempty"`
	IdleS               float64 `json:"idle_s"`
	// RSS (KiB): before the run, the peak sampled during it, at its end,
	// after -mem-idle with the HTTP connections closed and, inprocess
	// only, after runtime/debug.FreeOSMemory().
	RSSBeforeKB int64 `json:"rss_before_kb"`
	RSSPeakKB   int64 `json:"rss_peak_kb"`
	RSSEndKB    int64 `json:"rss_end_kb"`
	RSSIdleKB   int64 `json:"rss_idle_kb"`
	RSSFreedKB  int64 `json:"rss_after_free_os_memory_kb,omitempty"`
	// HeapInuse (KiB): before the run (inprocess: after a GC), at its
	// end, and after the idle time (inprocess: after FreeOSMemory, which
	// collects first).
	HeapBeforeKB *int64 `json:"heap_inuse_before_kb,omitempty"`
	HeapEndKB    *int64 `json:"heap_inuse_end_kb,omitempty"`
	HeapAfterKB  *int64 `json:"heap_inuse_after_kb,omitempty"`
	// Goroutines before the run and after the idle time; a delta that
	// stays above 0 hints at a leak.
	GoroutinesBefore *int `json:"goroutines_before,omitempty"`
	GoroutinesAfter  *int `json:"goroutines_after,omitempty"`
	GoroutinesDelta  *int `json:"goroutines_delta,omitempty"`
}

// memRun runs -mem-requests requests of path on t and measures memory
// around them.
func (b *bench) memRun(ctx context.Context, engine string, t *target, path string) memRun {
	o := b.o
	c, n := o.maxC, o.memRequests
	fmt.Fprintf(b.progress, "%6.1fs mem: %s %s %s point c=%d, %d requests, then %s idle\n",
		time.Since(b.started).Seconds(), engine, t.mode, path, c, n, o.memIdle)
	var hc *http.Client
	var fn op
	switch path {
	case pathREST, pathRESTCached:
		hc = httpClient(c)
		fn = restOp(hc, t.url, qPoint, restBodies(qPoint, refOf(qPoint, path == pathRESTCached)), c)
	case pathClient:
		fn = clientOp(t.client, qPoint, false)
	default:
		fn = clientOp(t.cached, qPoint, true)
	}
	if !t.external {
		runtime.GC()
	}
	before := probe(t)
	m := memRun{Engine: engine, Mode: t.mode, Path: path, Query: qPoint, Cached: path == pathClientCached || path == pathRESTCached,
		Concurrency: c, IdleS: o.memIdle.Seconds(), RSSBeforeKB: rssKB(t.pid)}
	watch := watchRSS(t.pid)
	st := memLoad(ctx, n, c, fn)
	m.RSSEndKB = rssKB(t.pid)
	m.RSSPeakKB = max(m.RSSBeforeKB, watch.stop(), m.RSSEndKB)
	end := probe(t)
	if hc != nil {
		hc.CloseIdleConnections()
	}
	select {
	case <-ctx.Done():
	case <-time.After(o.memIdle):
	}
	m.RSSIdleKB = rssKB(t.pid)
	if !t.external {
		debug.FreeOSMemory()
		m.RSSFreedKB = rssKB(t.pid)
	}
	after := probe(t)

	m.Requests, m.Errors = st.n, st.errors
	if st.firstErr != nil {
		m.FirstError = st.firstErr.Error()
	}
	m.OpsPerSec = round(float64(st.n-st.errors)/st.elapsed.Seconds(), 1)
	m.FirstTenthOpsPerSec, m.LastTenthOpsPerSec = round(st.first, 1), round(st.last, 1)
	if st.first > 0 {
		m.ThroughputDecay = round(st.last/st.first, 3)
	}
	m.P50us, m.P99us = micros(st.p50), micros(st.p99)
	if m.Errors > 0 || m.Requests < n {
		b.rep.note("memory run %s %s %s: %d of %d requests ran, %d errors, first: %s", engine, path, t.mode, m.Requests, n, m.Errors, m.FirstError)
	}
	m.HeapBeforeKB, m.HeapEndKB, m.HeapAfterKB = before.heapKB, end.heapKB, after.heapKB
	m.GoroutinesBefore, m.GoroutinesAfter = before.goroutines, after.goroutines
	if before.goroutines != nil && after.goroutines != nil {
		d := *after.goroutines - *before.goroutines
		m.GoroutinesDelta = &d
	}
	fmt.Fprintf(b.progress, "  mem %-13s %8.0f req/s  last÷first 10%% %.2f×  p50 %s  p99 %s  RSS %.1f → peak %.1f → end %.1f → idle %.1f MiB  goroutines %s  %d errors\n",
		path, m.OpsPerSec, m.ThroughputDecay, us(st.p50), us(st.p99), mib(m.RSSBeforeKB), mib(m.RSSPeakKB), mib(m.RSSEndKB), mib(m.RSSIdleKB),
		goroutineNote(m), m.Errors)
	return m
}

// memProbe is a heap and goroutine reading; nil fields are unknown.
type memProbe struct {
	heapKB     *int64
	goroutines *int
}

// probe reads the heap in use and the goroutines of the process holding
// t: this one's runtime, or the external process's /metrics.
func probe(t *target) memProbe {
	if !t.external {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h, g := int64(ms.HeapInuse/1024), runtime.NumGoroutine()
		return memProbe{heapKB: &h, goroutines: &g}
	}
	var p memProbe
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(strings.TrimSuffix(t.url, "/api/conduit/query") + "/metrics")
	if err != nil {
		return p
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			g := int(v)
			p.goroutines = &g
		case "go_memstats_heap_inuse_bytes":
			h := int64(v / 1024)
			p.heapKB = &h
		}
	}
	return p
}

func goroutineNote(m memRun) string {
	if m.GoroutinesBefore == nil || m.GoroutinesAfter == nil {
		return "–"
	}
	return fmt.Sprintf("%d → %d (%+d)", *m.GoroutinesBefore, *m.GoroutinesAfter, *m.GoroutinesDelta)
}

// memStats are a memLoad run's measurements.
type memStats struct {
	n, errors int
	firstErr  error
	elapsed   time.Duration
	// first and last are the throughput of the first and the last tenth
	// of the requests (0 if the run stopped early).
	first, last float64
	p50, p99    time.Duration
}

// memLoad runs n requests of fn from c goroutines, as load does, but in
// constant memory (latencies go into histograms, not a slice per
// request), so that the bench's own memory does not grow with n. It
// stops early once 1 % of n (at least 100) requests failed.
func memLoad(ctx context.Context, n, c int, fn op) memStats {
	hists := make([]latHist, c)
	var next, done, errs atomic.Int64
	var mu sync.Mutex
	var firstErr error
	tenth := int64(n / 10)
	maxErrs := int64(max(100, n/100))
	var firstAt, lastAt atomic.Int64 // when the first tenth ended, the last began: ns since start
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		h := &hists[w]
		wg.Go(func() {
			for ctx.Err() == nil && errs.Load() < maxErrs {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				err := fn(ctx, w, i)
				now := time.Now()
				h.add(now.Sub(t))
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
				switch done.Add(1) {
				case tenth:
					firstAt.Store(int64(now.Sub(start)))
				case int64(n) - tenth:
					lastAt.Store(int64(now.Sub(start)))
				}
			}
		})
	}
	wg.Wait()
	st := memStats{elapsed: time.Since(start), n: int(done.Load()), errors: int(errs.Load())}
	mu.Lock()
	st.firstErr = firstErr
	mu.Unlock()
	if st.n == n && tenth > 0 {
		if d := time.Duration(firstAt.Load()); d > 0 {
			st.first = float64(tenth) / d.Seconds()
		}
		if d := st.elapsed - time.Duration(lastAt.Load()); d > 0 {
			st.last = float64(tenth) / d.Seconds()
		}
	}
	var all latHist
	for i := range hists {
		for k, v := range hists[i] {
			all[k] += v
		}
	}
	st.p50, st.p99 = all.percentile(50), all.percentile(99)
	return st
}

// latHist is a latency histogram of constant size: exact nanoseconds
// below 1024 ns, then 64 buckets per power of two (under 1.6 % apart), up
// to 2^44 ns (about 4.9 hours).
type latHist [histBuckets]uint32

const (
	histExact   = 1024
	histSub     = 64 // buckets per power of two; 6 bits
	histBuckets = histExact + histSub*(44-10)
)

func (h *latHist) add(d time.Duration) { h[histIndex(d)]++ }

func histIndex(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < histExact {
		return int(v)
	}
	e := bits.Len64(v) - 1 // >= 10
	m := int(v>>(e-6)) & (histSub - 1)
	return min(histExact+(e-10)*histSub+m, histBuckets-1)
}

// histMid is the middle of bucket i.
func histMid(i int) time.Duration {
	if i < histExact {
		return time.Duration(i)
	}
	j := i - histExact
	e, m := j/histSub+10, j%histSub
	lo := uint64(histSub+m) << (e - 6)
	return time.Duration(lo + (uint64(1)<<(e-6))/2)
}

// percentile is the nearest-rank percentile, as the middle of its bucket.
func (h *latHist) percentile(p float64) time.Duration {
	var total uint64
	for _, v := range h {
		total += uint64(v)
	}
	if total == 0 {
		return 0
	}
	rank := max(uint64(float64(total)*p/100+0.999999), 1)
	var seen uint64
	for i, v := range h {
		if seen += uint64(v); seen >= rank {
			return histMid(i)
		}
	}
	return histMid(histBuckets - 1)
}

// memTable is the report's "Memory: N requests" section.
func (r *report) memTable(b *strings.Builder) {
	if len(r.mem) == 0 {
		return
	}
	m0 := r.mem[0]
	idle := r.o.memIdle.String()
	fmt.Fprintf(b, "## Memory: %d requests (%s, point query, c = %d)\n\n", r.o.memRequests, m0.Engine, m0.Concurrency)
	fmt.Fprintf(b, "| mode | path | requests | ops/s | first → last 10 %% ops/s | last ÷ first | p50 µs | p99 µs | RSS before MiB | peak MiB | end MiB | after %s idle MiB | after FreeOSMemory MiB (inprocess only) | heap in use MiB before → after | goroutines before → after (Δ) | errors |\n", idle)
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range r.mem {
		freed := "–"
		if m.RSSFreedKB > 0 {
			freed = fmt.Sprintf("%.1f", mib(m.RSSFreedKB))
		}
		heap := "–"
		if m.HeapBeforeKB != nil && m.HeapAfterKB != nil {
			heap = fmt.Sprintf("%.1f → %.1f", mib(*m.HeapBeforeKB), mib(*m.HeapAfterKB))
		}
		fmt.Fprintf(b, "| %s | %s | %d | %.0f | %.0f → %.0f | %.2f× | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %s | %s | %s | %d |\n",
			m.Mode, m.Path, m.Requests, m.OpsPerSec, m.FirstTenthOpsPerSec, m.LastTenthOpsPerSec, m.ThroughputDecay, m.P50us, m.P99us,
			mib(m.RSSBeforeKB), mib(m.RSSPeakKB), mib(m.RSSEndKB), mib(m.RSSIdleKB), freed, heap, goroutineNote(m), m.Errors)
	}
	fmt.Fprintf(b, "\nEach path ran alone, one after the other; RSS is the VmRSS of the process holding dqm (inprocess: the bench process, with the load generator, which keeps latencies in fixed-size histograms): before the run, its peak sampled every 20 ms, at its end, after %s idle with the HTTP connections closed, and (inprocess only) after runtime/debug.FreeOSMemory(); heap in use is HeapInuse before the run and after the idle time (inprocess: runtime.MemStats after a GC; external: go_memstats_heap_inuse_bytes of its /metrics, not collected); goroutines are counted before the run and after the idle time, and a Δ above 0 hints at a leak; last ÷ first is the throughput of the last 10 %% of the requests ÷ that of the first 10 %% (below 1: decay).\n\n", idle)
}

// guide is the report header's list of its sections, and the -paths and
// -queries filters if they leave something out.
func (r *report) guide(b *strings.Builder) {
	o := r.o
	if o.filtered() {
		fmt.Fprintf(b, "- measured (-paths, -queries): paths %s; queries %s; a ratio whose baseline row was not measured is left empty (–), a target whose rows were not measured says so\n",
			strings.Join(o.paths, ", "), strings.Join(o.queries, ", "))
	}
	b.WriteString("- sections:\n")
	b.WriteString("  - Targets: the issue's performance targets (PostgreSQL point query, c = 32), met or not met\n")
	b.WriteString("  - *engine*, *query* query: a row per concurrency, path and mode: throughput, latency percentiles, CPU and allocations per request, ratios to direct and to the path's ideal\n")
	if o.has(modeClusterR1) && o.has(modeClusterR3) {
		b.WriteString("  - Replication cost: the client and rest rows on a three-node loopback NATS cluster at R1 and R3 (modes cluster_r1, cluster_r3), R3 ÷ R1\n")
	}
	b.WriteString("  - Memory: VmRSS of the process holding dqm before, during (peak) and after each dqm row\n")
	if o.memRequests > 0 {
		fmt.Fprintf(b, "  - Memory: %d requests (-mem-requests): after the first engine's rows, %d point requests on each of %s at c = %d, one path at a time: RSS before, peak, at the end, after %s idle and after FreeOSMemory; heap in use, goroutines, throughput of the first vs the last 10 %% of the requests (results-mem.json)\n",
			o.memRequests, o.memRequests, strings.Join(o.wanted(memPaths), ", "), o.maxC, o.memIdle)
	}
	if o.soak > 0 {
		fmt.Fprintf(b, "  - Soak (-soak): after the first engine's rows (and the memory runs), %s point requests at c = %d for %s in %s windows, one path per window in turn; throughput and RSS per window, and each path's last window ÷ first (results-soak.json)\n",
			strings.Join(o.wanted(soakPaths), " and "), o.maxC, o.soak, o.soakWindow)
	}
	if len(o.syncs) > 0 {
		b.WriteString("  - fsync policy (-sync): the first engine's client point path at the highest concurrency, once per nats.sync policy, each on an instance of its own (results-sync.json)\n")
	}
	if o.baselines {
		b.WriteString("  - Baselines: core NATS and JetStream with no database and no dqm (report only)\n")
	}
	b.WriteString("  - Skipped and errors: what did not run, dqm's warnings, rows with errors (only if any)\n")
}

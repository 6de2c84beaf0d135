package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// scenarioTimeout bounds one scenario's run (warm-up included); a stalled
// path ends with errors instead of hanging the run.
const scenarioTimeout = 60 * time.Second

// op is one request; w is the load goroutine (0..c-1), i the request's
// index in the run.
type op func(ctx context.Context, w, i int) error

// stats are one scenario's measurements: the median run by throughput,
// with the spread of all runs and per-request costs over all of them.
type stats struct {
	n, c    int
	runs    int
	elapsed time.Duration
	// p50, p99, p999 are the median run's latency percentiles.
	p50, p99, p999 time.Duration
	// worst is the slowest request of all runs: a stall shows here even
	// when it is not in the median run.
	worst  time.Duration
	errors int
	// errorsAll counts the errors of all runs.
	errorsAll int
	firstErr  error
	// minRPS and maxRPS are the slowest and fastest runs.
	minRPS, maxRPS float64
	// cpu is the CPU time (user + system) per request of this process and,
	// for external rows, of the dqm process.
	cpu time.Duration
	// allocs are this process's heap allocations per request; -1 when the
	// work is in another process (external rows).
	allocs float64
	// rssBefore, rssPeak and rssAfter are the VmRSS (KiB) of the process
	// holding dqm, for dqm rows: before the first run, the highest sampled
	// during the runs, after the last run.
	rssBefore, rssPeak, rssAfter int64
}

// rps is the throughput of successful requests.
func (s stats) rps() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.n-s.errors) / s.elapsed.Seconds()
}

func (s stats) errNote() string {
	if s.errorsAll == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d errors; first: %v)", s.errorsAll, s.firstErr)
}

// scenario is a path to measure and the result it goes into.
type scenario struct {
	res result
	fn  op
	// rssPID is the process whose RSS is watched (dqm rows), 0 for none.
	rssPID int
	// extPID is another process whose CPU time counts (external dqm).
	extPID int
	// profile is the file name prefix of the row's profiles, "" for none.
	profile string
}

// measureAll warms every scenario up, then runs them in turn, -runs
// rounds, so that each path sees the machine in the same states, and
// records each scenario's median run. With -profile-dir, each scenario
// that has a profile name then gets one more, profiled run.
func (b *bench) measureAll(ctx context.Context, scs []scenario) {
	per := scenarioTimeout
	if b.o.duration > 0 {
		per = b.o.duration + scenarioTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, per*time.Duration(len(scs)*(b.o.runs+1)))
	defer cancel()
	for _, sc := range scs {
		if b.o.warmup > 0 {
			load(ctx, b.o.warmup, 0, sc.res.stats.c, sc.fn)
		}
	}
	runs := make([][]stats, len(scs))
	for range b.o.runs {
		for i, sc := range scs {
			runs[i] = append(runs[i], b.once(ctx, sc))
		}
	}
	for i, sc := range scs {
		sc.res.stats = median(runs[i])
		b.record(sc.res)
	}
	if b.o.profileDir == "" {
		return
	}
	for _, sc := range scs {
		if sc.profile == "" {
			continue
		}
		if err := b.profiled(ctx, sc); err != nil {
			b.rep.note("profile %s: %v", sc.profile, err)
		}
	}
}

// profiled is one more run of sc under the CPU profiler, with the
// allocation profile written before and after it (compare them with
// go tool pprof -diff_base).
func (b *bench) profiled(ctx context.Context, sc scenario) error {
	base := filepath.Join(b.o.profileDir, sc.profile)
	writeAllocs := func(path string) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	runtime.GC()
	if err := writeAllocs(base + ".allocs-base.pprof"); err != nil {
		return err
	}
	f, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	load(ctx, b.o.n, b.o.duration, sc.res.stats.c, sc.fn)
	pprof.StopCPUProfile()
	runtime.GC()
	return writeAllocs(base + ".allocs.pprof")
}

// once is one run, with CPU time, allocations and RSS.
func (b *bench) once(ctx context.Context, sc scenario) stats {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime() + procCPU(sc.extPID)
	var watch *rssWatch
	var before int64
	if sc.rssPID != 0 {
		before = rssKB(sc.rssPID)
		watch = watchRSS(sc.rssPID)
	}
	st := load(ctx, b.o.n, b.o.duration, sc.res.stats.c, sc.fn)
	if watch != nil {
		st.rssBefore, st.rssPeak, st.rssAfter = before, max(before, watch.stop()), rssKB(sc.rssPID)
	}
	n := max(st.n, 1)
	st.cpu = (cpuTime() + procCPU(sc.extPID) - cpu0) / time.Duration(n)
	runtime.ReadMemStats(&m1)
	st.allocs = float64(m1.Mallocs-m0.Mallocs) / float64(n)
	if sc.extPID != 0 {
		st.allocs = -1
	}
	return st
}

// median is the median run by throughput, with the spread of all runs and
// their mean CPU time and allocations per request.
func median(all []stats) stats {
	rssBefore, rssAfter := all[0].rssBefore, all[len(all)-1].rssAfter
	slices.SortFunc(all, func(a, b stats) int { return cmp.Compare(a.rps(), b.rps()) })
	st := all[len(all)/2]
	st.runs = len(all)
	st.minRPS, st.maxRPS = all[0].rps(), all[len(all)-1].rps()
	st.rssBefore, st.rssAfter = rssBefore, rssAfter
	var cpu time.Duration
	var allocs float64
	for _, r := range all {
		cpu += r.cpu
		allocs += r.allocs
		st.worst = max(st.worst, r.worst)
		st.rssPeak = max(st.rssPeak, r.rssPeak)
		st.errorsAll += r.errors
		if st.firstErr == nil {
			st.firstErr = r.firstErr
		}
	}
	st.cpu = cpu / time.Duration(len(all))
	st.allocs = allocs / float64(len(all))
	return st
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load runs fn from c goroutines: n requests, or for d if d > 0.
func load(ctx context.Context, n int, d time.Duration, c int, fn op) stats {
	lats := make([][]time.Duration, c)
	var next atomic.Int64
	var mu sync.Mutex
	st := stats{c: c}
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range c {
		wg.Go(func() {
			var lat []time.Duration
			if d == 0 {
				lat = make([]time.Duration, 0, n/c+1)
			}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				t := time.Now()
				if (d == 0 && i >= n) || (d > 0 && t.After(end)) {
					break
				}
				err := fn(ctx, w, i)
				lat = append(lat, time.Since(t))
				if err != nil {
					mu.Lock()
					st.errors++
					if st.firstErr == nil {
						st.firstErr = err
					}
					mu.Unlock()
				}
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	var lat []time.Duration
	for _, l := range lats {
		lat = append(lat, l...)
	}
	st.n = len(lat)
	slices.Sort(lat)
	st.p50, st.p99, st.p999 = percentile(lat, 50), percentile(lat, 99), percentile(lat, 99.9)
	if len(lat) > 0 {
		st.worst = lat[len(lat)-1]
	}
	return st
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

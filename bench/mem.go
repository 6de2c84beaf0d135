package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// rssKB is a process's resident set size in KiB (VmRSS of
// /proc/<pid>/status), 0 if unknown.
func rssKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("VmRSS:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	f := strings.Fields(string(line)) // "12345 kB"
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// procCPU is another process's CPU time (user + system) from
// /proc/<pid>/stat, 0 for pid 0 or if unknown.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start past its closing parenthesis: state is field 3, utime 14,
	// stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// rssWatch samples a process's RSS until stopped and keeps the highest.
type rssWatch struct {
	peak atomic.Int64
	done chan struct{}
	quit chan struct{}
}

func watchRSS(pid int) *rssWatch {
	w := &rssWatch{done: make(chan struct{}), quit: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rssKB(pid); v > w.peak.Load() {
				w.peak.Store(v)
			}
			select {
			case <-w.quit:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// stop ends the sampling and returns the peak.
func (w *rssWatch) stop() int64 {
	close(w.quit)
	<-w.done
	return w.peak.Load()
}

// soakWindow is one window of a soak run (results-soak.json).
type soakWindow struct {
	Engine      string  `json:"engine"`
	Mode        string  `json:"mode"`
	Path        string  `json:"path"`
	Query       string  `json:"query"`
	Concurrency int     `json:"concurrency"`
	StartS      float64 `json:"start_s"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	// ThroughputDecay is ops_per_sec ÷ that of the first window of the
	// same mode and path: the last window's is the soak's decay.
	ThroughputDecay float64 `json:"throughput_decay"`
	P50us           float64 `json:"p50_us"`
	P99us           float64 `json:"p99_us"`
	Errors          int     `json:"errors"`
	RSSKB           int64   `json:"rss_kb"`
	RSSPeakKB       int64   `json:"rss_peak_kb"`
}

// soakPath is a path of the soak and its request.
type soakPath struct {
	path string
	fn   op
}

// soak runs paths for -soak at the highest concurrency, one -soak-window
// each in turn (rest, rest_cached, rest, ...), so that each path gets
// every other window of the same stretch of time, and records each
// window's throughput and RSS.
func (b *bench) soak(ctx context.Context, engine string, t *target, paths []soakPath) {
	c := b.o.maxC
	var names []string
	for _, p := range paths {
		names = append(names, p.path)
	}
	fmt.Fprintf(b.progress, "%6.1fs soak: %s %s %s point c=%d for %s, alternating %s windows\n",
		time.Since(b.started).Seconds(), engine, t.mode, strings.Join(names, "/"), c, b.o.soak, b.o.soakWindow)
	first := map[string]float64{}
	start := time.Now()
	for k := 0; ctx.Err() == nil && time.Since(start) < b.o.soak; k++ {
		p := paths[k%len(paths)]
		at := time.Since(start)
		d := min(b.o.soakWindow, b.o.soak-at)
		watch := watchRSS(t.pid)
		st := load(ctx, 0, d, c, p.fn)
		peak := watch.stop()
		rss := rssKB(t.pid)
		w := soakWindow{Engine: engine, Mode: t.mode, Path: p.path, Query: qPoint, Concurrency: c,
			StartS: round(at.Seconds(), 1), OpsPerSec: round(st.rps(), 1), P50us: micros(st.p50), P99us: micros(st.p99),
			Errors: st.errors, RSSKB: rss, RSSPeakKB: max(peak, rss)}
		if _, ok := first[p.path]; !ok {
			first[p.path] = w.OpsPerSec
		}
		if f := first[p.path]; f > 0 {
			w.ThroughputDecay = round(w.OpsPerSec/f, 3)
		}
		b.rep.soak = append(b.rep.soak, w)
		fmt.Fprintf(b.progress, "  soak %6.0fs %-12s %8.0f req/s (%.2f× first)  p50 %s  p99 %s  RSS %d KiB (peak %d)  %d errors\n",
			w.StartS, w.Path, w.OpsPerSec, w.ThroughputDecay, us(st.p50), us(st.p99), w.RSSKB, w.RSSPeakKB, st.errors)
	}
}

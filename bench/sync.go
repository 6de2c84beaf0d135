package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// natsSync is the embedded server's fsync policy (nats.sync) of the
// instances the bench starts; "" keeps the configuration's default.
var natsSync string

// syncRow is one fsync policy's run of the client point path.
type syncRow struct {
	Engine      string  `json:"engine"`
	Sync        string  `json:"sync"`
	Concurrency int     `json:"concurrency"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	Errors      int     `json:"errors"`
}

// syncCompare runs the client point path at the highest concurrency once
// per fsync policy, each on an instance of its own, in this run: what
// nats.sync costs on this machine. Every request is a message stored in
// the request stream, so a read pays for the policy as a write does.
func (b *bench) syncCompare(ctx context.Context, engine string) error {
	fxDir := filepath.Join(b.dir, "sync")
	if err := os.MkdirAll(fxDir, 0o755); err != nil {
		return err
	}
	fx, err := fixtures[engine](ctx, fxDir)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer fx.close()
	defer func() { natsSync = "" }()
	c := b.o.maxC
	for i, policy := range b.o.syncs {
		natsSync = policy
		fmt.Fprintf(b.progress, "%6.1fs == fsync %s (%s, client point, c = %d)\n", time.Since(b.started).Seconds(), policy, engine, c)
		sub := filepath.Join(fxDir, fmt.Sprintf("%d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		t, err := startInProcess(ctx, sub, fx, b.o.workers, b.log)
		if err != nil {
			return fmt.Errorf("nats.sync %s: %w", policy, err)
		}
		fn := clientOp(t.client, qPoint, false)
		load(ctx, min(b.o.warmup, 500), 0, c, fn)
		s := load(ctx, b.o.n, b.o.duration, c, fn)
		t.stop()
		b.rep.syncs = append(b.rep.syncs, syncRow{Engine: engine, Sync: policy, Concurrency: c, OpsPerSec: round(s.rps(), 0),
			P50us: micros(s.p50), P99us: micros(s.p99), Errors: s.errors})
	}
	return nil
}

func (r *report) syncTable(b *strings.Builder) {
	if len(r.syncs) == 0 {
		return
	}
	s0 := r.syncs[0]
	fmt.Fprintf(b, "## fsync policy (nats.sync): %s, client point query, c = %d\n\n", s0.Engine, s0.Concurrency)
	b.WriteString("| nats.sync | ops/s | ÷ first | p50 µs | p99 µs | errors |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range r.syncs {
		rel := "–"
		if s0.OpsPerSec > 0 {
			rel = fmt.Sprintf("%.2f×", s.OpsPerSec/s0.OpsPerSec)
		}
		fmt.Fprintf(b, "| %s | %.0f | %s | %.0f | %.0f | %d |\n", s.Sync, s.OpsPerSec, rel, s.P50us, s.P99us, s.Errors)
	}
	b.WriteString("\n")
}

package replication

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/schemas"
)

// Watcher reads every stream's replication every Every and keeps the last
// reading for status, readiness and the heartbeat; it logs a stream that
// loses or regains its leader or a replica, and the one-replica warning.
type Watcher struct {
	JS       jetstream.JetStream
	NC       *nats.Conn // the servers it knows and their cluster
	Streams  []string
	Replicas int           // config nats.replicas
	Every    time.Duration // default 2 s
	Log      *slog.Logger
	Metrics  *metrics.Metrics // optional: dqm_stream_replicas{,_current}

	mu     sync.Mutex
	last   schemas.Replication
	byName map[string]schemas.StreamReplication
	warned bool
}

// inspectTimeout bounds one stream's reading: a stream without a leader
// does not answer, and its reading should not hold the others.
const inspectTimeout = time.Second

// Run reads until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	launch := time.Now().Add(launchWindow)
	for {
		w.Check(ctx)
		// At launch the streams are being created: read again soon, so
		// readiness does not wait a whole interval for them.
		wait := every
		if time.Now().Before(launch) && w.missing() {
			wait = min(every, 100*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// launchWindow is how long after Run starts a missing stream is read
// again every 100 ms rather than every interval.
const launchWindow = 30 * time.Second

// missing reports whether a stream was not there at the last reading.
func (w *Watcher) missing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.last.Streams {
		if s.Error == noStream {
			return true
		}
	}
	return len(w.last.Streams) == 0
}

// Check reads every stream once, all at once.
func (w *Watcher) Check(ctx context.Context) {
	out := make([]schemas.StreamReplication, len(w.Streams))
	clusters := make([]string, len(w.Streams))
	var wg sync.WaitGroup
	for i, name := range w.Streams {
		wg.Go(func() {
			ictx, cancel := context.WithTimeout(ctx, inspectTimeout)
			defer cancel()
			out[i], clusters[i] = Inspect(ictx, w.JS, name)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	rep := schemas.Replication{Replicas: w.Replicas, Streams: out, Checked: time.Now().UTC()}
	for _, c := range clusters {
		if c != "" {
			rep.Cluster = c
		}
	}
	if rep.Cluster == "" && w.NC != nil {
		rep.Cluster = w.NC.ConnectedClusterName()
	}
	servers := 1
	if w.NC != nil {
		servers = len(w.NC.Servers())
	}
	rep.Warning = Warning(w.Replicas, rep.Cluster, servers)
	w.record(rep)
}

func (w *Watcher) record(rep schemas.Replication) {
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if rep.Warning != "" && !w.warned {
		log.Warn("replication: " + rep.Warning)
		w.warned = true
	}
	byName := make(map[string]schemas.StreamReplication, len(rep.Streams))
	for _, s := range rep.Streams {
		byName[s.Stream] = s
		// A stream first read (or just created) is no news.
		if old, ok := w.byName[s.Stream]; ok && old.Error != noStream && changed(old, s) {
			log.Warn("replication: stream changed", "stream", s.Stream, "leader", s.Leader, "current", s.Current,
				"replicas", s.Replicas, "offline", strings.Join(s.Offline, ","), "lagging", strings.Join(s.Lagging, ","), "err", s.Error)
		}
		if w.Metrics != nil && s.Error == "" {
			w.Metrics.StreamReplicas.WithLabelValues(s.Stream).Set(float64(s.Replicas))
		}
		if w.Metrics != nil {
			w.Metrics.StreamReplicasCurrent.WithLabelValues(s.Stream).Set(float64(s.Current))
		}
	}
	w.last, w.byName = rep, byName
}

// noStream is Inspect's Error for a stream that does not exist (yet).
const noStream = "no such stream"

// changed reports a leader lost or found, or a different set of replicas
// out of step: what an operator wants in the log.
func changed(a, b schemas.StreamReplication) bool {
	return (a.Leader == "") != (b.Leader == "") || !slices.Equal(a.Offline, b.Offline) || (a.Error == "") != (b.Error == "")
}

// Snapshot is the last reading (Streams empty before the first).
func (w *Watcher) Snapshot() schemas.Replication {
	w.mu.Lock()
	defer w.mu.Unlock()
	rep := w.last
	rep.Streams = slices.Clone(rep.Streams)
	return rep
}

// Stream is a stream's last reading.
func (w *Watcher) Stream(name string) (schemas.StreamReplication, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.byName[name]
	return s, ok
}

// Led reports whether the stream had a leader at the last reading (false
// before the first).
func (w *Watcher) Led(name string) bool {
	s, ok := w.Stream(name)
	return ok && s.Error == "" && (s.Leader != "" || s.Current > 0)
}

// For is what a database's heartbeat shows: its request stream, then the
// streams every database shares.
func (w *Watcher) For(db string) []schemas.StreamReplication {
	rep := w.Snapshot()
	own := schemas.StreamName(db)
	var out []schemas.StreamReplication
	for _, s := range rep.Streams {
		if s.Stream == own || !strings.HasPrefix(s.Stream, "DQM_") || s.Stream == schemas.ChangesStream || s.Stream == schemas.DLQStream {
			out = append(out, s)
		}
	}
	return out
}

package metrics

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one instance's metrics.
type Metrics struct {
	reg *prometheus.Registry

	Requests        *prometheus.CounterVec   // db, tag, outcome (the error code, or ok)
	Rejected        *prometheus.CounterVec   // db, reason: requests terminated unanswered or dead-lettered by a worker
	QueueWait       *prometheus.HistogramVec // db, tag: publish → pulled
	Execution       *prometheus.HistogramVec // db, tag: pulled → replied
	Lag             *prometheus.GaugeVec     // db, tag: pending + ack pending
	Workers         *prometheus.GaugeVec     // db, tag: workers on this instance
	Desired         *prometheus.GaugeVec     // db, tag: workers the Lead wants cluster-wide
	ScaleDecisions  *prometheus.CounterVec   // db, tag, direction (up, down)
	Heartbeats      *prometheus.CounterVec   // db, result (ok, error)
	ConnectionState *prometheus.GaugeVec     // db, state: 1 for the current state
	Leader          *prometheus.GaugeVec     // db: 1 while this instance holds the lease
	HTTPRequests    *prometheus.CounterVec   // route, status
	Cache           *prometheus.CounterVec   // db, event (hit, miss, eviction, invalidation, drop)
	CacheEntries    *prometheus.GaugeVec     // db
	Changes         *prometheus.CounterVec   // db, table: change events published
	DeadLetters     *prometheus.CounterVec   // db, reason: requests moved to DQM_DLQ
	HTTPDuration    *prometheus.HistogramVec // route, status: REST request duration
	BuildInfo       *prometheus.GaugeVec     // version, goversion: always 1
	// StreamReplicas and StreamReplicasCurrent are each dqm stream's
	// configured replicas and those current with its leader (0: no leader).
	StreamReplicas        *prometheus.GaugeVec // stream
	StreamReplicasCurrent *prometheus.GaugeVec // stream

	// series are Observe's children by db, tag and outcome, looked up
	// once: every answered request would otherwise hash its labels
	// three times.
	series sync.Map // seriesKey → *requestSeries

	// cacheSeries are CacheEvent's children by db and event.
	cacheSeries sync.Map // [2]string → prometheus.Counter
}

// CacheEvent counts one cache event (hit, miss, eviction, invalidation,
// drop) of db; a hit is counted on every cache-answered request, so its
// series is looked up once.
func (m *Metrics) CacheEvent(db, event string) {
	k := [2]string{db, event}
	v, ok := m.cacheSeries.Load(k)
	if !ok {
		v, _ = m.cacheSeries.LoadOrStore(k, m.Cache.WithLabelValues(db, event))
	}
	v.(prometheus.Counter).Inc()
}

type seriesKey struct{ db, tag, outcome string }

type requestSeries struct {
	requests   prometheus.Counter
	wait, exec prometheus.Observer
}

var latency = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New returns a fresh set of metrics with Go and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg}
	m.Requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_requests_total", Help: "Query requests answered by workers, by outcome."}, []string{"db", "tag", "outcome"})
	m.Rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_requests_rejected_total", Help: "Requests a worker terminated instead of answering normally (reply_subject: not an allowed inbox, never run; panic: dead-lettered)."}, []string{"db", "reason"})
	m.QueueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dqm_queue_wait_seconds", Help: "Time from publish to being pulled by a worker.", Buckets: latency}, []string{"db", "tag"})
	m.Execution = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dqm_execution_seconds", Help: "Time a worker spent on a request (bind, run, encode, reply).", Buckets: latency}, []string{"db", "tag"})
	m.Lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_queue_lag", Help: "Pending plus ack-pending requests of a tag's consumer."}, []string{"db", "tag"})
	m.Workers = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_workers", Help: "Workers of a tag running on this instance."}, []string{"db", "tag"})
	m.Desired = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_workers_desired", Help: "Workers of a tag the Lead wants across all instances."}, []string{"db", "tag"})
	m.ScaleDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_scale_decisions_total", Help: "Scaling decisions taken by the Lead."}, []string{"db", "tag", "direction"})
	m.Heartbeats = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_heartbeats_total", Help: "Connection checks, by result."}, []string{"db", "result"})
	m.ConnectionState = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_connection_state", Help: "1 for the database's current connection state."}, []string{"db", "state"})
	m.Leader = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_leader", Help: "1 while this instance holds the database's Lead lease."}, []string{"db"})
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_http_requests_total", Help: "REST requests by route and status."}, []string{"route", "status"})
	m.Cache = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_cache_events_total", Help: "Result cache hits, misses, evictions, invalidations and drops of a database that may have missed an invalidation."}, []string{"db", "event"})
	m.CacheEntries = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_cache_entries", Help: "Entries in the instance's result cache."}, []string{"db"})
	m.Changes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_change_events_total", Help: "Change events published by the Lead."}, []string{"db", "table"})
	m.DeadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dqm_dead_letters_total", Help: "Requests moved to the dead-letter stream DQM_DLQ, by reason (max_deliveries, panic, reply_subject)."}, []string{"db", "reason"})
	m.HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dqm_http_request_duration_seconds", Help: "REST request duration, by route pattern and status.", Buckets: latency}, []string{"route", "status"})
	m.BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_build_info", Help: "Always 1; the labels say which dqm this is."}, []string{"version", "goversion"})
	m.BuildInfo.WithLabelValues(Version, runtime.Version()).Set(1)
	m.StreamReplicas = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_stream_replicas", Help: "Configured replicas of each stream and KV bucket stream dqm uses."}, []string{"stream"})
	m.StreamReplicasCurrent = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dqm_stream_replicas_current", Help: "Replicas of each dqm stream current with its leader, the leader included; 0 while it has no leader."}, []string{"stream"})
	for _, c := range []prometheus.Collector{m.Requests, m.Rejected, m.QueueWait, m.Execution, m.Lag, m.Workers, m.Desired, m.ScaleDecisions,
		m.Heartbeats, m.ConnectionState, m.Leader, m.HTTPRequests, m.Cache, m.CacheEntries, m.Changes,
		m.DeadLetters, m.HTTPDuration, m.BuildInfo, m.StreamReplicas, m.StreamReplicasCurrent} {
		f(c)
	}
	return m
}

// Version is dqm's version for dqm_build_info; cmd/dqm sets it from its
// build-time version before starting a server.
var Version = "dev"

// Names lists the names of every metric family registered, whether or not
// it has samples yet (a vector with no labels set is not exposed), with
// _bucket, _sum and _count for histograms: what dashboards may reference.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc)
	go func() { m.reg.Describe(ch); close(ch) }()
	var names []string
	for d := range ch {
		// A Desc prints as Desc{fqName: "name", ...}: its name is not
		// otherwise exported.
		s := d.String()
		i := strings.Index(s, `fqName: "`)
		if i < 0 {
			continue
		}
		s = s[i+len(`fqName: "`):]
		name := s[:strings.IndexByte(s, '"')]
		names = append(names, name, name+"_bucket", name+"_sum", name+"_count")
	}
	return names
}

// DeadLetter counts one request moved to the dead-letter stream.
func (m *Metrics) DeadLetter(db, reason string) { m.DeadLetters.WithLabelValues(db, reason).Inc() }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// Observe records one answered request.
func (m *Metrics) Observe(db, tag, outcome string, queued, ran time.Duration) {
	if outcome == "" {
		outcome = "ok"
	}
	k := seriesKey{db, tag, outcome}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &requestSeries{m.Requests.WithLabelValues(db, tag, outcome),
			m.QueueWait.WithLabelValues(db, tag), m.Execution.WithLabelValues(db, tag)})
	}
	s := v.(*requestSeries)
	s.requests.Inc()
	if queued > 0 {
		s.wait.Observe(queued.Seconds())
	}
	s.exec.Observe(ran.Seconds())
}

// Reject counts one request a worker terminated, by reason.
func (m *Metrics) Reject(db, reason string) { m.Rejected.WithLabelValues(db, reason).Inc() }

// SetState marks the database's connection state.
func (m *Metrics) SetState(db, state string) {
	for _, s := range []string{"CONNECTING", "CONNECTED", "ERROR", "DISCONNECTED"} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.ConnectionState.WithLabelValues(db, s).Set(v)
	}
}

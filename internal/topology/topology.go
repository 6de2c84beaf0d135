package topology

import (
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

// Settings of the resources that the configuration does not name.
const (
	// ChangesMaxAge is how long DQM_CHANGES keeps a change event.
	ChangesMaxAge = 7 * 24 * time.Hour
	// ChangesDuplicates is DQM_CHANGES's Nats-Msg-Id window: a Lead that
	// crashes between publishing an event and marking it delivered
	// re-publishes nothing.
	ChangesDuplicates = 2 * time.Hour
	// MaxAckPending bounds the requests of one queue in flight at once.
	MaxAckPending = 1000
)

// Topology is dqm's set of JetStream resources for one configuration.
// Its methods return each resource's configuration, every one with the
// same replicas and placement (config nats.replicas, nats.placement);
// ensure.go creates them.
type Topology struct {
	replicas    int
	placement   *jetstream.Placement // nil: the server places
	bucketTTL   time.Duration
	deadLetters config.DeadLetters
	setup       time.Duration
	log         *slog.Logger
}

// New returns the topology of cfg; log (nil: slog.Default) gets the
// retries of a forming cluster.
func New(cfg *config.Config, log *slog.Logger) *Topology {
	if log == nil {
		log = slog.Default()
	}
	// The lease and status TTL is the longest lead_ttl_s: a dead
	// instance's lease and status vanish within it.
	var ttl time.Duration
	for _, db := range cfg.Databases {
		ttl = max(ttl, db.LeadTTL())
	}
	if ttl <= 0 {
		// No database (the CLI's configuration): the default lease.
		ttl = config.DefaultLeadTTL
	}
	t := &Topology{replicas: max(cfg.NATS.Replicas, 1), bucketTTL: ttl, deadLetters: cfg.DeadLetters,
		setup: cfg.NATS.SetupTimeout(), log: log}
	if p := cfg.NATS.Placement; p.Cluster != "" || len(p.Tags) > 0 {
		t.placement = &jetstream.Placement{Cluster: p.Cluster, Tags: slices.Clone(p.Tags)}
	}
	return t
}

// Replicas is the replica count of every resource.
func (t *Topology) Replicas() int { return t.replicas }

// Default is the topology of config.Default(): what a test or a tool
// without a configuration file creates.
func Default() *Topology { return New(config.Default(), nil) }

// RequestStream is database db's request stream, DQM_<DB>: a work queue
// of the subjects db.<name>.<tag>.
func (t *Topology) RequestStream(db *config.Database) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        schemas.StreamName(db.Name),
		Description: "dqm requests for database " + db.Name,
		Subjects:    schemas.RequestSubjects(db.Name),
		Retention:   jetstream.WorkQueuePolicy,
		// The depth limit is per tag: a full queue refuses new requests
		// (publish fails → 429 queue_full) rather than dropping old ones.
		MaxMsgsPerSubject:    int64(db.QueueDepthLimit),
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		// How long a Nats-Msg-Id is remembered, so a request published
		// twice within it (a retried publish) is queued once; every id of
		// the window is held in memory (config duplicate_window_ms).
		Duplicates: db.DuplicateWindow(),
		Storage:    jetstream.FileStorage,
		Replicas:   t.replicas,
		Placement:  t.placement,
	}
}

// RequestConsumer is the durable pull consumer of database db's queue
// tag (slow, medium, fast or cache).
func (t *Topology) RequestConsumer(db *config.Database, tag string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       schemas.ConsumerName(db.Name, tag),
		Description:   "dqm " + tag + " queue of " + db.Name,
		FilterSubject: schemas.RequestSubject(db.Name, tag),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       db.AckWait(),
		MaxDeliver:    db.MaxDeliver,
		MaxAckPending: MaxAckPending,
		// A work queue's consumers must have its stream's replica count
		// (the server refuses others).
		Replicas: t.replicas,
	}
}

// ChangesStream is DQM_CHANGES, where every database's change events go
// (dqm.<name>.changes.<table>.<op>).
func (t *Topology) ChangesStream() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        schemas.ChangesStream,
		Description: "dqm change events from database triggers",
		Subjects:    []string{"dqm.*.changes.>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      ChangesMaxAge,
		Duplicates:  ChangesDuplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    t.replicas,
		Placement:   t.placement,
	}
}

// DeadLetterStream is DQM_DLQ, which captures every database's
// dqm.<name>.dlq, bounded by config dead_letters (oldest first out).
func (t *Topology) DeadLetterStream() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        schemas.DLQStream,
		Description: "dqm dead letters: requests that exhausted redelivery, panicked or could not be answered",
		Subjects:    []string{schemas.DLQSubject("*")},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      t.deadLetters.MaxAge(),
		MaxMsgs:     t.deadLetters.MaxMsgs,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    t.replicas,
		Placement:   t.placement,
	}
}

// LeadersBucket is KV dqm_leaders: each database's Lead lease and worker
// plan, gone within the TTL when their instance dies.
func (t *Topology) LeadersBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: schemas.BucketLeaders, Description: "dqm Lead leases and worker plans", TTL: t.bucketTTL, History: 1,
		Replicas: t.replicas, Placement: t.placement,
	}
}

// StatusBucket is KV dqm_status: one key per database and instance.
func (t *Topology) StatusBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: schemas.BucketStatus, Description: "dqm instance status per database", TTL: t.bucketTTL, History: 1,
		Replicas: t.replicas, Placement: t.placement,
	}
}

// CatalogBucket is KV dqm_catalog, where Leads publish catalogs
// (<db>.<ref>).
func (t *Topology) CatalogBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: schemas.BucketCatalog, Description: "dqm catalogs, <db>.<ref>", History: 1,
		Replicas: t.replicas, Placement: t.placement,
	}
}

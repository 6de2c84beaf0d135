package topology_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/topology"
	"github.com/dqmhq/dqm/schemas"
)

// demoConfig is a configuration with one database, shop, and nats as
// given (JSON members, or "").
func demoConfig(t *testing.T, nats string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`{"nats": {`+nats+`}, "databases": {"shop": {"engine": "sqlite", "dsn": "x.db", "lead_ttl_s": 9}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// logs is a logger whose lines a test reads.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// count is how many lines hold every one of parts.
func (l *logs) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for line := range strings.Lines(l.buf.String()) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			n++
		}
	}
	return n
}

// replication is every replica count and placement the topology
// declares, by resource.
func replication(topo *topology.Topology, db *config.Database) map[string]string {
	out := map[string]string{}
	str := func(r int, p *jetstream.Placement) string {
		if p == nil {
			return fmt.Sprintf("R%d", r)
		}
		return fmt.Sprintf("R%d %s %v", r, p.Cluster, p.Tags)
	}
	for _, c := range []jetstream.StreamConfig{topo.RequestStream(db), topo.ChangesStream(), topo.DeadLetterStream()} {
		out[c.Name] = str(c.Replicas, c.Placement)
	}
	for _, c := range []jetstream.KeyValueConfig{topo.LeadersBucket(), topo.StatusBucket(), topo.CatalogBucket()} {
		out[c.Bucket] = str(c.Replicas, c.Placement)
	}
	for _, tag := range schemas.Tags {
		c := topo.RequestConsumer(db, tag)
		out[c.Durable] = str(c.Replicas, nil)
	}
	return out
}

// TestReplicationDeclared: nats.replicas and nats.placement reach every
// stream, consumer and bucket; the consumers of the work queue carry the
// stream's replica count.
func TestReplicationDeclared(t *testing.T) {
	for _, tt := range []struct{ nats, stream, consumer string }{
		{``, "R1", "R1"},
		{`"url": "nats://a:4222", "replicas": 3`, "R3", "R3"},
		{`"url": "nats://a:4222", "replicas": 5, "placement": {"cluster": "east", "tags": ["ssd"]}`, "R5 east [ssd]", "R5"},
	} {
		cfg := demoConfig(t, tt.nats)
		got := replication(topology.New(cfg, nil), cfg.Databases["shop"])
		if len(got) != 10 {
			t.Fatalf("%d resources declared, want 10: %v", len(got), got)
		}
		for name, r := range got {
			want := tt.stream
			if strings.HasPrefix(name, "shop-") {
				want = tt.consumer
			}
			if r != want {
				t.Errorf("%s: %s is %s, want %s", tt.nats, name, r, want)
			}
		}
	}
}

// TestEnsure: every resource of the topology exists after one run, a
// second run (the next instance's start) changes nothing, and the
// declarations are what the rest of dqm opens by name.
func TestEnsure(t *testing.T) {
	ctx := context.Background()
	js, _ := jetstream.New(testutil.Connect(t, testutil.NATS(t)))
	cfg := demoConfig(t, "")
	topo := topology.New(cfg, nil)
	for range 2 {
		shared, err := topo.EnsureShared(ctx, js)
		if err != nil {
			t.Fatal(err)
		}
		if shared.Leaders.Bucket() != schemas.BucketLeaders || shared.Status.Bucket() != schemas.BucketStatus || shared.Catalogs.Bucket() != schemas.BucketCatalog {
			t.Fatalf("buckets %s %s %s", shared.Leaders.Bucket(), shared.Status.Bucket(), shared.Catalogs.Bucket())
		}
		if _, err := topo.EnsureDatabase(ctx, js, cfg.Databases["shop"]); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{schemas.StreamName("shop"), schemas.ChangesStream, schemas.DLQStream,
		"KV_" + schemas.BucketLeaders, "KV_" + schemas.BucketStatus, "KV_" + schemas.BucketCatalog} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
	st, _ := js.Stream(ctx, schemas.StreamName("shop"))
	for _, tag := range schemas.Tags {
		c, err := st.Consumer(ctx, schemas.ConsumerName("shop", tag))
		if err != nil {
			t.Fatalf("consumer %s: %v", tag, err)
		}
		if got := c.CachedInfo().Config.FilterSubject; got != schemas.RequestSubject("shop", tag) {
			t.Errorf("consumer %s filters %s", tag, got)
		}
	}
	if ttl := topo.LeadersBucket().TTL; ttl.Seconds() != 9 {
		t.Errorf("lease TTL %v, want the longest lead_ttl_s (9 s)", ttl)
	}
	dlq := topo.DeadLetterStream()
	if dlq.MaxAge != cfg.DeadLetters.MaxAge() || dlq.MaxMsgs != cfg.DeadLetters.MaxMsgs {
		t.Errorf("DQM_DLQ bounds %v %d, want config dead_letters", dlq.MaxAge, dlq.MaxMsgs)
	}
}

// TestUpdateInPlace: an existing stream whose settings changed is updated
// where it is and keeps its messages; one whose replication did not
// change is not reported.
func TestUpdateInPlace(t *testing.T) {
	ctx := context.Background()
	js, _ := jetstream.New(testutil.Connect(t, testutil.NATS(t)))
	var l logs
	cfg := demoConfig(t, "")
	db := cfg.Databases["shop"]
	if _, err := topology.New(cfg, l.logger()).EnsureDatabase(ctx, js, db); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := js.Publish(ctx, schemas.RequestSubject("shop", "slow"), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	db.QueueDepthLimit, db.AckWaitMS = 77, 61000
	st, err := topology.New(cfg, l.logger()).EnsureDatabase(ctx, js, db)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 3 || info.Config.MaxMsgsPerSubject != 77 || info.Config.Replicas != 1 {
		t.Fatalf("after the update: %d messages, max per subject %d, R%d", info.State.Msgs, info.Config.MaxMsgsPerSubject, info.Config.Replicas)
	}
	c, _ := st.Consumer(ctx, schemas.ConsumerName("shop", "slow"))
	if got := c.CachedInfo().Config; got.AckWait != db.AckWait() || got.Replicas != 1 {
		t.Fatalf("consumer after the update: ack wait %v, R%d", got.AckWait, got.Replicas)
	}
	if n := l.count("updated in place"); n != 0 {
		t.Fatalf("%d resources reported as moved, none changed replicas:\n%s", n, l.buf.String())
	}
}

// TestReplicasNotClustered: nats.replicas 3 on a server that is not
// clustered fails at once (no waiting for a cluster to form) with an
// error naming both numbers.
func TestReplicasNotClustered(t *testing.T) {
	ctx := context.Background()
	ns := testutil.NATS(t)
	js, _ := jetstream.New(testutil.Connect(t, ns))
	cfg := demoConfig(t, `"url": "`+ns.ClientURL()+`", "replicas": 3`)
	start := time.Now()
	_, err := topology.New(cfg, nil).EnsureShared(ctx, js)
	var rerr *topology.ReplicasError
	if !errors.As(err, &rerr) || rerr.Replicas != 3 || rerr.Servers != 1 {
		t.Fatalf("want a ReplicasError 3 > 1, got %v", err)
	}
	const want = "kv dqm_leaders: nats.replicas is 3 but the NATS server is not clustered (1 server): set nats.replicas to 1 or add servers"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error:\n%v\nwant it to start with:\n%s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v: a server that is not clustered is not waited for", d)
	}
}

package topology_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/topology"
	"github.com/dqmhq/dqm/schemas"
)

// demoConfig is a configuration with one database, shop.
func demoConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`{"databases": {"shop": {"engine": "sqlite", "dsn": "x.db", "lead_ttl_s": 9}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestEnsure: every resource of the topology exists after one run, a
// second run (the next instance's start) changes nothing, and the
// declarations are what the rest of dqm opens by name.
func TestEnsure(t *testing.T) {
	ctx := context.Background()
	js, _ := jetstream.New(testutil.Connect(t, testutil.NATS(t)))
	cfg := demoConfig(t)
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

package server

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

// Options are knobs for tests and embedding; the config file holds the rest.
type Options struct {
	// Tick is how often each Lead looks at lag (default 250 ms).
	Tick time.Duration
}

// Option sets an Option.
type Option func(*Options)

// WithTick sets the Leads' decision interval.
func WithTick(d time.Duration) Option { return func(o *Options) { o.Tick = d } }

// instanceID is the hostname plus a random suffix, restricted to the
// characters of a KV key token.
func instanceID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, host)
	if host == "" {
		host = "dqm"
	}
	return host + "-" + nuid.Next()[16:]
}

// ensureBuckets creates the KV buckets of leases and status. Their TTL is
// the longest lead_ttl_s of the databases: a dead instance's lease and
// status vanish within it.
func ensureBuckets(ctx context.Context, js jetstream.JetStream, cfg *config.Config) (leaders, status jetstream.KeyValue, err error) {
	var ttl time.Duration
	for _, db := range cfg.Databases {
		ttl = max(ttl, db.LeadTTL())
	}
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	leaders, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: schemas.BucketLeaders, Description: "dqm Lead leases and worker plans", TTL: ttl, History: 1,
		Replicas: cfg.NATS.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kv %s: %w", schemas.BucketLeaders, err)
	}
	status, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: schemas.BucketStatus, Description: "dqm instance status per database", TTL: ttl, History: 1,
		Replicas: cfg.NATS.Replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kv %s: %w", schemas.BucketStatus, err)
	}
	return leaders, status, nil
}

// ensureCatalogs creates KV dqm_catalog, where Leads publish catalogs.
func ensureCatalogs(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: schemas.BucketCatalog, Description: "dqm catalogs, <db>.<ref>", History: 1, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("kv %s: %w", schemas.BucketCatalog, err)
	}
	return kv, nil
}

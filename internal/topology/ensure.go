package topology

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/jsretry"
	"github.com/dqmhq/dqm/schemas"
)

// Shared are the resources every database uses: opened by EnsureShared.
type Shared struct {
	Leaders  jetstream.KeyValue // dqm_leaders
	Status   jetstream.KeyValue // dqm_status
	Catalogs jetstream.KeyValue // dqm_catalog
}

// EnsureShared creates or updates the KV buckets, DQM_CHANGES and DQM_DLQ.
// Every instance runs it at start; it is idempotent.
func (t *Topology) EnsureShared(ctx context.Context, js jetstream.JetStream) (*Shared, error) {
	s := &Shared{}
	for _, b := range []struct {
		cfg jetstream.KeyValueConfig
		kv  *jetstream.KeyValue
	}{{t.LeadersBucket(), &s.Leaders}, {t.StatusBucket(), &s.Status}, {t.CatalogBucket(), &s.Catalogs}} {
		kv, err := t.ensureBucket(ctx, js, b.cfg)
		if err != nil {
			return nil, err
		}
		*b.kv = kv
	}
	for _, cfg := range []jetstream.StreamConfig{t.ChangesStream(), t.DeadLetterStream()} {
		if _, err := t.ensureStream(ctx, js, cfg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// EnsureDatabase creates or updates database db's request stream and its
// four consumers, and returns the stream.
func (t *Topology) EnsureDatabase(ctx context.Context, js jetstream.JetStream, db *config.Database) (jetstream.Stream, error) {
	st, err := t.ensureStream(ctx, js, t.RequestStream(db))
	if err != nil {
		return nil, fmt.Errorf("db %s: %w", db.Name, err)
	}
	for _, tag := range schemas.Tags {
		if err := t.ensureConsumer(ctx, st, t.RequestConsumer(db, tag)); err != nil {
			return nil, fmt.Errorf("db %s: %w", db.Name, err)
		}
	}
	return st, nil
}

func (t *Topology) ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	var st jetstream.Stream
	err := t.retry(ctx, "stream "+cfg.Name, func(ctx context.Context) (err error) {
		st, err = js.CreateOrUpdateStream(ctx, cfg)
		return err
	})
	return st, err
}

func (t *Topology) ensureConsumer(ctx context.Context, st jetstream.Stream, cfg jetstream.ConsumerConfig) error {
	return t.retry(ctx, "consumer "+cfg.Durable, func(ctx context.Context) error {
		_, err := st.CreateOrUpdateConsumer(ctx, cfg)
		return err
	})
}

func (t *Topology) ensureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := t.retry(ctx, "kv "+cfg.Bucket, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	return kv, err
}

// retry runs op through a cluster that is still forming or electing a
// leader ("no suitable peers for placement"), bounded by
// nats.setup_timeout_ms; the error names what.
func (t *Topology) retry(ctx context.Context, what string, op func(context.Context) error) error {
	if err := jsretry.Do(ctx, t.log, t.setup, what, op); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

package topology

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"

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
// Every instance runs it at start; it is idempotent. It warns when
// nats.replicas is 1 on a cluster of more than one server.
func (t *Topology) EnsureShared(ctx context.Context, js jetstream.JetStream) (*Shared, error) {
	t.warnSingleReplica(ctx, js.Conn())
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
	err := t.retry(ctx, js.Conn(), "stream "+cfg.Name, func(ctx context.Context) error {
		old, err := js.Stream(ctx, cfg.Name)
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		if st, err = js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return err
		}
		if old != nil {
			was := old.CachedInfo().Config
			t.logUpdate("stream "+cfg.Name, was.Replicas, was.Placement)
		}
		return nil
	})
	return st, err
}

func (t *Topology) ensureConsumer(ctx context.Context, st jetstream.Stream, cfg jetstream.ConsumerConfig) error {
	return t.retry(ctx, nil, "consumer "+cfg.Durable, func(ctx context.Context) error {
		old, err := st.Consumer(ctx, cfg.Durable)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return err
		}
		if _, err := st.CreateOrUpdateConsumer(ctx, cfg); err != nil {
			return err
		}
		if old != nil {
			// 0 is "the stream's", which was 1 for every consumer dqm
			// made before it set replicas.
			t.logUpdate("consumer "+cfg.Durable, max(old.CachedInfo().Config.Replicas, 1), t.placement)
		}
		return nil
	})
}

func (t *Topology) ensureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	// A bucket is stream KV_<bucket>: its replicas and placement are the
	// stream's, and an update reaches them the same way.
	name := "KV_" + cfg.Bucket
	err := t.retry(ctx, js.Conn(), "kv "+cfg.Bucket, func(ctx context.Context) error {
		old, err := js.Stream(ctx, name)
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		if kv, err = js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return err
		}
		if old != nil {
			was := old.CachedInfo().Config
			t.logUpdate("kv "+cfg.Bucket, was.Replicas, was.Placement)
		}
		return nil
	})
	return kv, err
}

// logUpdate logs, once, that an existing resource got a new replica
// count or placement.
func (t *Topology) logUpdate(what string, replicas int, placement *jetstream.Placement) {
	if replicas == t.replicas && samePlacement(placement, t.placement) {
		return
	}
	t.log.Info("launch: JetStream resource updated in place", "resource", what,
		"replicas_from", replicas, "replicas_to", t.replicas, "placement", placementString(t.placement))
}

func samePlacement(a, b *jetstream.Placement) bool {
	return placementString(a) == placementString(b)
}

// placementString is "cluster=<name> tags=<a,b>", "" for none.
func placementString(p *jetstream.Placement) string {
	if p == nil || p.Cluster == "" && len(p.Tags) == 0 {
		return ""
	}
	return "cluster=" + p.Cluster + " tags=" + strings.Join(p.Tags, ",")
}

// retry runs op through a cluster that is still forming or electing a
// leader ("no suitable peers for placement"), bounded by
// nats.setup_timeout_ms; the error names what. A refusal because the
// cluster has fewer servers than nats.replicas ends it with a
// *ReplicasError (nc nil: not checked, as for a consumer, whose stream
// was placed first).
func (t *Topology) retry(ctx context.Context, nc *nats.Conn, what string, op func(context.Context) error) error {
	c := &replicaCheck{t: t, nc: nc}
	err := jsretry.Do(ctx, t.log, t.setup, what, func(ctx context.Context) error {
		err := op(ctx)
		if nc == nil || err == nil {
			return err
		}
		if rerr, final := c.check(ctx, err); final {
			return jsretry.Permanent(rerr)
		}
		return err
	})
	var apiErr *jetstream.APIError
	if c.tooSmall != nil && errors.As(err, &apiErr) && apiErr.ErrorCode == codeNoPeers && !errors.As(err, new(*ReplicasError)) {
		// The bound passed before the refusal settled: still the reason.
		err = c.tooSmall
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

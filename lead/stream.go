package lead

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

// EnsureStream creates or updates the database's request stream and its
// four durable pull consumers, each on replicas nodes. It is idempotent, so
// every instance runs it at start.
func EnsureStream(ctx context.Context, js jetstream.JetStream, db *config.Database, replicas int) (jetstream.Stream, error) {
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
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
		Replicas:   replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("db %s: stream: %w", db.Name, err)
	}
	for _, tag := range schemas.Tags {
		_, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       schemas.ConsumerName(db.Name, tag),
			Description:   "dqm " + tag + " queue of " + db.Name,
			FilterSubject: schemas.RequestSubject(db.Name, tag),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       db.AckWait(),
			MaxDeliver:    db.MaxDeliver,
			MaxAckPending: 1000,
			// A WorkQueue stream's consumers must have its replicas.
			Replicas: replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("db %s: consumer %s: %w", db.Name, tag, err)
		}
	}
	return st, nil
}

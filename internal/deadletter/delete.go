package deadletter

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// Head returns up to limit of a database's dead letters, oldest first,
// and whether more follow: List for a page that shows the first ones.
func Head(ctx context.Context, js jetstream.JetStream, db string, limit int) ([]Letter, bool, error) {
	st, err := js.Stream(ctx, schemas.DLQStream)
	if err != nil {
		return nil, false, fmt.Errorf("stream %s: %w", schemas.DLQStream, err)
	}
	var out []Letter
	var seq uint64 = 1
	for {
		raw, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(schemas.DLQSubject(db)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, false, nil
		}
		if err != nil {
			return out, false, err
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, letter(raw))
		seq = raw.Sequence + 1
	}
}

// Delete removes the dead letters of a database with the given sequences
// in DQM_DLQ and returns how many it removed; a sequence holding another
// database's letter, or none, is left alone.
func Delete(ctx context.Context, js jetstream.JetStream, db string, seqs []uint64) (int, error) {
	st, err := js.Stream(ctx, schemas.DLQStream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", schemas.DLQStream, err)
	}
	n := 0
	for _, seq := range seqs {
		raw, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if raw.Subject != schemas.DLQSubject(db) {
			continue
		}
		if err := st.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("dead letter %d: %w", seq, err)
		}
		n++
	}
	return n, nil
}

package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/internal/backoff"
	"github.com/dqmhq/dqm/internal/jsretry"
	"github.com/dqmhq/dqm/schemas"
)

// publishAttempt bounds one publish: its PubAck normally takes
// milliseconds, so one that takes longer met a leader change, and a retry
// (deduplicated by its Nats-Msg-Id) is quicker than waiting.
const publishAttempt = 2 * time.Second

// publish stores msg in the database's stream. A publish that meets a
// passing state of the cluster — no responders or no stream response
// while a stream leader changes, no PubAck in time, no peers, a leader
// election — is published again with the same Nats-Msg-Id, so the stream
// queues it once, after a capped backoff, until ctx ends; then it is 503
// unavailable. The reply inbox stays registered meanwhile: a worker may
// answer an attempt whose PubAck was lost, and that reply is returned.
// Whether the database exists is known from WithDatabases or its stream,
// never guessed from a publish error.
func (c *Client) publish(ctx context.Context, db string, msg *nats.Msg, replied <-chan *nats.Msg) (*nats.Msg, *schemas.Error) {
	b := backoff.Backoff{Min: 20 * time.Millisecond, Max: time.Second}
	for first := true; ; first = false {
		ack, reply, err := c.publishOnce(ctx, msg, replied)
		if reply != nil {
			return reply, nil
		}
		if err == nil && first && ack.Duplicate {
			// JetStream still remembers this id from an earlier call (a
			// caller's retry): its first message may be queued, or already
			// consumed and answered to an inbox that is gone. Queued again
			// under a fresh Nats-Msg-Id, the same ce-id: the worker answers
			// a write from its idempotency record (a twin still queued is
			// answered from it too) and runs a read again. A duplicate on a
			// later attempt of this loop is its own earlier attempt.
			msg.Header.Set(schemas.HeaderMsgID, msg.Header.Get(schemas.HeaderID)+"-"+nuid.Next())
			continue
		}
		if err == nil {
			return nil, nil
		}
		if perr := publishError(db, err); perr != nil {
			return nil, perr
		}
		noStream := errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
		if noStream && c.known == nil && c.streams.missing(ctx, c.js, db) {
			return nil, errInvalidDatabase(db, err)
		}
		if !noStream && !jsretry.Transient(err) {
			return nil, &schemas.Error{Code: schemas.CodeUnavailable, Message: "queue unavailable", Err: err}
		}
		t := time.NewTimer(b.Next())
		select {
		case m := <-replied:
			t.Stop()
			return m, nil
		case <-ctx.Done():
			t.Stop()
			return nil, &schemas.Error{Code: schemas.CodeUnavailable, Message: "queue unavailable until the deadline",
				Err: errors.Join(ctx.Err(), err)}
		case <-t.C:
		}
	}
}

// publishOnce publishes msg once and waits for its PubAck and its reply
// at once, not one after the other: a reply that comes first (the worker
// was quicker than the PubAck's way back) is returned at once, with no
// PubAck. A PubAck that takes longer than publishAttempt (the JetStream
// context's async timeout, which also forgets the publish) is
// context.DeadlineExceeded, as a publish whose context ended.
func (c *Client) publishOnce(ctx context.Context, msg *nats.Msg, replied <-chan *nats.Msg) (*jetstream.PubAck, *nats.Msg, error) {
	f, err := c.js.PublishMsgAsync(msg)
	if err != nil {
		return nil, nil, err
	}
	select {
	case ack := <-f.Ok():
		return ack, nil, nil
	case err := <-f.Err():
		if errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
			err = fmt.Errorf("no PubAck in %s: %w", publishAttempt, context.DeadlineExceeded)
		}
		return nil, nil, err
	case m := <-replied:
		return nil, m, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// errCodeStoreFailed is nats-server's JSStreamStoreFailedF, which carries
// "maximum messages per subject exceeded" when a queue is at its depth
// limit (nats.go has no constant for it).
const errCodeStoreFailed jetstream.ErrorCode = 10077

// publishError classifies a failed publish that is final: a full queue is
// 429. Anything else (nil) is for publish to judge: retried while it is
// a passing state, else unavailable.
func publishError(db string, err error) *schemas.Error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeStoreFailed &&
		strings.Contains(apiErr.Description, "maximum messages") {
		return &schemas.Error{Code: schemas.CodeQueueFull, Message: "queue depth limit reached for database " + db, Err: err}
	}
	return nil
}

func errInvalidDatabase(db string, err error) *schemas.Error {
	return &schemas.Error{Code: schemas.CodeInvalidDatabase, Message: "Invalid database selection", Err: err}
}

// streamCache remembers, per database, whether its stream exists, so a
// burst of publishes that find no stream asks JetStream once.
type streamCache struct {
	mu      sync.Mutex
	entries map[string]streamEntry
}

type streamEntry struct {
	missing bool
	until   time.Time
}

// How long a stream lookup is believed: a missing stream briefly (it may
// be being created), one that exists longer.
const (
	streamMissingFor = 2 * time.Second
	streamExistsFor  = 10 * time.Second
	streamLookup     = 2 * time.Second
)

// missing reports whether JetStream says db has no stream. A lookup that
// fails otherwise (the cluster moving; a service without $JS.API
// permissions) is not an answer: the database is treated as existing.
func (s *streamCache) missing(ctx context.Context, js jetstream.JetStream, db string) bool {
	now := time.Now()
	s.mu.Lock()
	e, ok := s.entries[db]
	s.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.missing
	}
	lctx, cancel := context.WithTimeout(ctx, streamLookup)
	_, err := js.Stream(lctx, schemas.StreamName(db))
	cancel()
	e = streamEntry{until: now.Add(streamExistsFor)}
	if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrInvalidStreamName) {
		e = streamEntry{missing: true, until: now.Add(streamMissingFor)}
	}
	s.mu.Lock()
	if s.entries == nil {
		s.entries = map[string]streamEntry{}
	}
	s.entries[db] = e
	s.mu.Unlock()
	return e.missing
}

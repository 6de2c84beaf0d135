package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// maxDeliveriesAdvisory is nats-server's advisory when a message reaches
// a consumer's MaxDeliver.
const maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."

// Dead-letter headers on dqm.<name>.dlq messages (declared in
// schemas/deadletter.go).
const (
	HeaderDLQReason     = schemas.HeaderDLQReason
	HeaderDLQConsumer   = schemas.HeaderDLQConsumer
	HeaderDLQDeliveries = schemas.HeaderDLQDeliveries
	HeaderDLQStreamSeq  = schemas.HeaderDLQStreamSeq
)

// DeadLetters moves requests that exhausted their deliveries to
// dqm.<name>.dlq, with the reason in headers, answers their requester 503
// (if it still waits), and removes them from the work queue, where they
// would otherwise count against the depth limit forever. Every instance
// runs it with a queue subscription, so each advisory is handled once.
func DeadLetters(ctx context.Context, nc *nats.Conn, st jetstream.Stream, db, source string, log *slog.Logger) (stop func(), err error) {
	if log == nil {
		log = slog.Default()
	}
	stream := schemas.StreamName(db)
	sub, err := nc.QueueSubscribe(maxDeliveriesAdvisory+stream+".*", "dqm-dlq-"+db, func(m *nats.Msg) {
		var adv struct {
			Stream     string `json:"stream"`
			Consumer   string `json:"consumer"`
			StreamSeq  uint64 `json:"stream_seq"`
			Deliveries uint64 `json:"deliveries"`
		}
		if json.Unmarshal(m.Data, &adv) != nil || adv.StreamSeq == 0 {
			return
		}
		if err := deadLetter(ctx, nc, st, db, source, adv.Consumer, adv.StreamSeq, adv.Deliveries); err != nil {
			log.Warn("dead letter", "db", db, "seq", adv.StreamSeq, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("db %s: dead-letter subscription: %w", db, err)
	}
	return func() { sub.Unsubscribe() }, nil
}

func deadLetter(ctx context.Context, nc *nats.Conn, st jetstream.Stream, db, source, consumer string, seq, deliveries uint64) error {
	raw, err := st.GetMsg(ctx, seq)
	if err != nil {
		return err // already gone: acked late, or handled by another instance
	}
	reason := fmt.Sprintf("delivered %d times by consumer %s without an answer", deliveries, consumer)
	dl := nats.NewMsg(schemas.DLQSubject(db))
	for k, v := range raw.Header {
		dl.Header[k] = v
	}
	dl.Header.Set(HeaderDLQReason, reason)
	dl.Header.Set(HeaderDLQConsumer, consumer)
	dl.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(deliveries, 10))
	dl.Header.Set(HeaderDLQStreamSeq, strconv.FormatUint(seq, 10))
	dl.Header.Set("Dqm-Dlq-Subject", raw.Subject)
	dl.Data = raw.Data
	if err := nc.PublishMsg(dl); err != nil {
		return err
	}
	if replyTo := raw.Header.Get(schemas.HeaderReplyTo); replyTo != "" {
		req, _ := wire.DecodeRequest(raw.Subject, raw.Header, raw.Data)
		res := schemas.Failure(db, req.Data.QueryRef, schemas.Errorf(schemas.CodeUnavailable, "request dead-lettered: "+reason))
		res.Status = schemas.CodeUnavailable.Status()
		nc.PublishMsg(wire.NewReply(replyTo, req.ID, source, res.AppendJSON(nil)))
	}
	return st.DeleteMsg(ctx, seq)
}

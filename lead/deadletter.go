package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/tracing"
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

// deadLetters is the dead-letter job: it moves requests that exhausted
// their deliveries to dqm.<name>.dlq, with the reason in headers, answers
// their requester 503 (if it still waits and its inbox is an allowed one),
// and removes them from the work queue, where they would otherwise count
// against the depth limit forever. Every instance runs it with a queue
// subscription, so each advisory is handled once.
type deadLetters struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	metrics  *metrics.Metrics // optional
	st       jetstream.Stream
	db       string
	source   string
	prefixes []string // allowed reply subjects
	log      *slog.Logger
	sub      *nats.Subscription
	msgs     chan *nats.Msg
}

// newDeadLetters subscribes to the advisories; run handles them.
func newDeadLetters(nc *nats.Conn, st jetstream.Stream, db, source string, prefixes []string, log *slog.Logger) (*deadLetters, error) {
	if log == nil {
		log = slog.Default()
	}
	if len(prefixes) == 0 {
		prefixes = schemas.DefaultReplyPrefixes
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	log = slog.New(tracing.LogHandler(log.Handler())) // trace_id on a request's lines
	d := &deadLetters{nc: nc, js: js, st: st, db: db, source: source, prefixes: prefixes, log: log, msgs: make(chan *nats.Msg, 64)}
	d.sub, err = nc.ChanQueueSubscribe(maxDeliveriesAdvisory+schemas.StreamName(db)+".*", "dqm-dlq-"+db, d.msgs)
	if err != nil {
		return nil, fmt.Errorf("db %s: dead-letter subscription: %w", db, err)
	}
	return d, nil
}

// DeadLetters runs the dead-letter job of db until stop, which returns
// after it has ended. Replies go only to the default reply prefixes.
func DeadLetters(ctx context.Context, nc *nats.Conn, st jetstream.Stream, db, source string, log *slog.Logger) (stop func(), err error) {
	if log == nil {
		log = slog.Default()
	}
	d, err := newDeadLetters(nc, st, db, source, nil, log.With("db", db))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.run(ctx)
	}()
	return func() { cancel(); <-done }, nil
}

func (d *deadLetters) run(ctx context.Context) error {
	defer d.sub.Unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-d.msgs:
			var adv struct {
				Stream     string `json:"stream"`
				Consumer   string `json:"consumer"`
				StreamSeq  uint64 `json:"stream_seq"`
				Deliveries uint64 `json:"deliveries"`
			}
			if json.Unmarshal(m.Data, &adv) != nil || adv.StreamSeq == 0 {
				continue
			}
			if err := d.deadLetter(ctx, adv.Consumer, adv.StreamSeq, adv.Deliveries); err != nil {
				d.log.Warn("dead letter", "seq", adv.StreamSeq, "err", err)
			}
		}
	}
}

func (d *deadLetters) deadLetter(ctx context.Context, consumer string, seq, deliveries uint64) error {
	raw, err := d.st.GetMsg(ctx, seq)
	if err != nil {
		return err // already gone: acked late, or handled by another instance
	}
	reason := fmt.Sprintf("delivered %d times by consumer %s without an answer", deliveries, consumer)
	dl := wire.NewDeadLetter(d.db, wire.DeadLetter{Subject: raw.Subject, Header: raw.Header, Data: raw.Data,
		Reason: schemas.DLQReasonMaxDeliveries, Consumer: consumer, Deliveries: deliveries, StreamSeq: seq})
	dl.Header.Set(schemas.HeaderDLQError, reason)
	// A JetStream publish: the request leaves the work queue only once
	// DQM_DLQ has stored it.
	if _, err := d.js.PublishMsg(ctx, dl); err != nil {
		return fmt.Errorf("store dead letter: %w", err)
	}
	if d.metrics != nil {
		d.metrics.DeadLetter(d.db, schemas.DLQReasonMaxDeliveries)
	}
	// Decoded for its inbox (Dqm-Reply-To, ce-dqmreplyto or, structured,
	// dqmreplyto), its mode and its trace context; a malformed request
	// still has what could be read.
	req, _ := wire.DecodeRequest(raw.Subject, raw.Header, raw.Data)
	lctx := tracing.Extract(ctx, req.TraceParent, req.TraceState)
	d.log.InfoContext(lctx, "dead-lettered", "request_id", req.ID, "reason", schemas.DLQReasonMaxDeliveries, "seq", seq)
	if req.ReplyTo != "" {
		if err := schemas.CheckReplySubject(req.ReplyTo, d.prefixes); err != nil {
			// Where dqm publishes is never the requester's choice.
			d.log.WarnContext(lctx, "dead letter: no notice", "request_id", req.ID, "err", err)
		} else {
			res := schemas.Failure(d.db, req.Data.QueryRef, schemas.Errorf(schemas.CodeUnavailable, "request dead-lettered: "+reason))
			res.Status = schemas.CodeUnavailable.Status()
			if err := d.nc.PublishMsg(req.Reply(d.source, res.AppendJSON(nil))); err != nil {
				d.log.WarnContext(lctx, "dead letter notice", "request_id", req.ID, "err", err)
			}
		}
	}
	return d.st.DeleteMsg(ctx, seq)
}

package workers

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// A worker pulls its queue in pulls of a few messages, each a JetStream
// pull request that ends on the server: when its messages are delivered,
// or at its expiry (the server's 408). A worker that stops, to land or
// to scale down, starts no new pull but listens to the ones it made until
// they end, and answers what they bring; then it unsubscribes.
//
// It never unsubscribes from a pull the server may still deliver to. The
// server checks the pull's interest before it delivers a message, then
// delivers it from another goroutine: a message caught between the two
// when the subscription goes is dropped on the way, while JetStream holds
// it as delivered, unacked, until AckWait (60 s by default, longer than a
// client waits). And it answers, rather than NAKs, what comes after its
// stop: a NAKed request is delivered again at once, to whichever pull of
// the landing instance is still open, which NAKs it again, until it runs
// out of deliveries (MaxDeliver) with no Lead left to dead-letter it.
const (
	// pullExpiry is how long a pull waits on the server for messages:
	// how long an idle worker takes to stop. nats.go gives up on a pull a
	// second after its expiry (if the server's 408 is late).
	pullExpiry = time.Second
	// landingRedelivery is how long a request the landing bound cut short
	// waits before it is delivered again: longer than the pulls of this
	// instance can stay open, so it goes to another instance.
	landingRedelivery = pullExpiry + 2*time.Second
)

// batch is how many messages a tag's pulls ask for. Slow queries take
// one at a time so a waiting request is not stuck behind a busy worker
// while an idle one could run it.
func batch(tag string) int {
	switch tag {
	case schemas.TagFast, schemas.TagCache:
		return 8
	}
	return 1
}

// pull serves one tag until ctx ends and its last pull has ended.
func (w *Worker) pull(ctx context.Context, tag string, cons jetstream.Consumer) error {
	pulling, stop := w.pulling(ctx)
	defer stop()
	for pulling.Err() == nil {
		msgs, err := cons.Fetch(batch(tag), jetstream.FetchMaxWait(pullExpiry))
		if err == nil {
			for msg := range msgs.Messages() {
				w.take(ctx, tag, msg)
			}
			err = msgs.Error()
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			// The connection or the consumer: not a tight loop meanwhile.
			w.log.Warn("pull", "tag", tag, "err", err)
			select {
			case <-pulling.Done():
			case <-time.After(pullExpiry):
			}
		}
	}
	return nil
}

// take answers one pulled message, also after the worker's stop: it
// came from a pull made before. Past the landing bound it is not
// started but handed to another instance.
func (w *Worker) take(ctx context.Context, tag string, msg jetstream.Msg) {
	if w.aborted() {
		if err := msg.NakWithDelay(landingRedelivery); err != nil {
			w.log.Warn("landing: nak", "request_id", msg.Headers().Get(schemas.HeaderID), "err", err)
		}
		return
	}
	if w.cfg.Pulled != nil {
		w.cfg.Pulled(tag)
	}
	w.handle(ctx, tag, msg)
}

// pulling is ctx, unless the stopping hook is set: then it ends once ctx
// has ended and the hook returned.
func (w *Worker) pulling(ctx context.Context) (context.Context, func()) {
	if w.stopping == nil {
		return ctx, func() {}
	}
	p, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		w.stopping()
		cancel()
	})
	return p, func() { stop(); cancel() }
}

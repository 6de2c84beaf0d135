package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// Tail delivers a database's change events from stream DQM_CHANGES to fn,
// in order, until ctx ends or fn fails. With a durable name the position
// is kept by JetStream across runs (each event is acked after fn returns
// nil: at-least-once); without one, Tail starts at new events and keeps no
// position. table "" means every table.
func Tail(ctx context.Context, js jetstream.JetStream, db, table, durable string, fn func(schemas.Change) error) error {
	filter := schemas.ChangesFilter(db, table)
	var cons jetstream.Consumer
	var err error
	if durable != "" {
		cons, err = js.CreateOrUpdateConsumer(ctx, schemas.ChangesStream, jetstream.ConsumerConfig{
			Durable: durable, FilterSubject: filter, AckPolicy: jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 1, // one at a time keeps order under redelivery
		})
	} else {
		cons, err = js.OrderedConsumer(ctx, schemas.ChangesStream, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverNewPolicy,
		})
	}
	if err != nil {
		return fmt.Errorf("changes of %s: %w", db, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var c schemas.Change
		if err := json.Unmarshal(m.Data(), &c); err != nil {
			m.Term() // not a change event: never redeliver it
			continue
		}
		if err := fn(c); err != nil {
			m.Nak()
			return err
		}
		if durable != "" {
			m.Ack()
		}
	}
}

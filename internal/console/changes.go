package console

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// tailKeep is how many change events the console keeps for a page that
// opens the tail.
const tailKeep = 500

// tail follows stream DQM_CHANGES (every database) with an ordered
// consumer that keeps no state on the server, starting with the last
// tailKeep events, and keeps those in memory for the Changes page.
type tail struct {
	mu     sync.Mutex
	events *ring[Change]
	counts map[string]uint64 // events seen per database, for the rate
	notify *notifier
}

func newTail() *tail {
	return &tail{events: newRing[Change](tailKeep), counts: map[string]uint64{}, notify: newNotifier()}
}

// run tails until ctx ends, starting again after a failure from the
// last event it holds.
func (t *tail) run(ctx context.Context, js jetstream.JetStream) {
	for ctx.Err() == nil {
		if err := t.tailOnce(ctx, js); err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (t *tail) tailOnce(ctx context.Context, js jetstream.JetStream) error {
	st, err := js.Stream(ctx, schemas.ChangesStream)
	if err != nil {
		return err
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{"dqm.*.changes.>"}}
	next := t.last() + 1
	if next == 1 {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		next = 1
		if info.State.LastSeq > tailKeep {
			next = info.State.LastSeq - tailKeep + 1
		}
	}
	cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, next
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		m, err := it.Next()
		if err != nil {
			return err
		}
		var c schemas.Change
		meta, merr := m.Metadata()
		if merr != nil || json.Unmarshal(m.Data(), &c) != nil {
			continue
		}
		var data any
		json.Unmarshal(c.Data, &data)
		t.add(Change{Seq: meta.Sequence.Stream, Database: c.Database, Table: c.Table, Op: c.Op,
			Data: data, Timestamp: c.Timestamp, SequenceID: c.SequenceID})
	}
}

func (t *tail) add(c Change) {
	t.mu.Lock()
	t.events.add(c)
	t.counts[c.Database]++
	t.mu.Unlock()
	t.notify.fire()
}

// last is the stream sequence of the newest event held (0: none).
func (t *tail) last() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.events.len() == 0 {
		return 0
	}
	return t.events.at(t.events.len() - 1).Seq
}

// after returns the events held after seq that match db and table (""
// matches any), oldest first, and the sequence of the newest event held,
// matching or not: the point a caller has seen up to.
func (t *tail) after(seq uint64, db, table string) ([]Change, uint64) {
	t.mu.Lock()
	all := t.events.since(func(c Change) bool { return c.Seq > seq })
	t.mu.Unlock()
	out := all[:0]
	for _, c := range all {
		if c.Seq > seq {
			seq = c.Seq
		}
		if (db == "" || c.Database == db) && (table == "" || c.Table == table) {
			out = append(out, c)
		}
	}
	return out, seq
}

// count is how many events of db the tail has seen.
func (t *tail) count(db string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[db]
}

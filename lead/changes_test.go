package lead

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// fakeChangeLog is a trigger_events table in memory.
type fakeChangeLog struct {
	mu        sync.Mutex
	installs  int
	events    []engines.Event // undelivered, in order
	delivered []int64
	prunes    int
	wake      chan struct{} // returned by Listen (nil: no wake-up)
}

func (f *fakeChangeLog) Install(context.Context, engines.Conn, []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.installs++
	return nil
}

func (f *fakeChangeLog) Listen(context.Context) (<-chan struct{}, error) { return f.wake, nil }

func (f *fakeChangeLog) Fetch(_ context.Context, _ engines.Conn, limit int) ([]engines.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events[:min(limit, len(f.events))]), nil
}

func (f *fakeChangeLog) MarkDelivered(_ context.Context, _ engines.Conn, seqs []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, seqs...)
	f.events = slices.DeleteFunc(f.events, func(e engines.Event) bool { return slices.Contains(seqs, e.Seq) })
	return nil
}

func (f *fakeChangeLog) Prune(context.Context, engines.Conn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prunes++
	return nil
}

func (f *fakeChangeLog) record(seqs ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range seqs {
		f.events = append(f.events, engines.Event{Seq: s, Table: "Shop.Items", Op: "insert", Data: json.RawMessage(`{"new":{}}`), Time: time.Now()})
	}
}

func (f *fakeChangeLog) state() (installs int, delivered []int64, prunes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.installs, slices.Clone(f.delivered), f.prunes
}

// fakeSink records the change events; it fails the event whose id is
// failID.
type fakeSink struct {
	mu     sync.Mutex
	msgs   []*nats.Msg
	failID string
}

func (s *fakeSink) PublishMsg(_ context.Context, m *nats.Msg, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := m.Header.Get(schemas.HeaderID); id == s.failID {
		return nil, errors.New("stream unavailable")
	}
	s.msgs = append(s.msgs, m)
	return &jetstream.PubAck{}, nil
}

func (s *fakeSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		out = append(out, m.Header.Get(schemas.HeaderID))
	}
	return out
}

func newChangePublisher(log *fakeChangeLog, sink *fakeSink, invalidations *atomic.Int32) (*changePublisher, *leaderState, *connHolder) {
	db := &config.Database{Name: "shop", Triggers: config.Triggers{Tables: []string{"Shop.Items"}, PollMS: 10}}
	leader := &leaderState{}
	conn, _ := connected()
	return &changePublisher{
		db: db, log: log, conn: conn, leader: leader, sink: sink,
		invalidate: func(inv schemas.Invalidation) error {
			if subject := schemas.InvalidateSubject(inv.Database, inv.Table); subject != schemas.InvalidateSubject("shop", "items") {
				return fmt.Errorf("invalidation on %s", subject)
			}
			invalidations.Add(1)
			return nil
		},
		capturing: &atomic.Bool{}, logger: quiet(),
	}, leader, conn
}

// TestChangePublisher: nothing happens until the instance leads; then the
// triggers are installed, every event is published once in sequence order
// with its invalidation, and exactly the published events are marked.
// Losing the lease stops capturing; a new connection reinstalls.
func TestChangePublisher(t *testing.T) {
	log := &fakeChangeLog{}
	sink := &fakeSink{}
	var invalidations atomic.Int32
	c, leader, conn := newChangePublisher(log, sink, &invalidations)
	log.record(1, 2, 3)
	c.step(context.Background())
	if installs, _, _ := log.state(); installs != 0 || c.capturing.Load() {
		t.Fatal("triggers installed without the lease")
	}
	runJob(t, c)
	leader.set(true)
	testutil.Eventually(t, 5*time.Second, "capturing, delivered and pruned", func() bool {
		_, delivered, prunes := log.state()
		return c.capturing.Load() && len(delivered) == 3 && prunes == 1
	})
	if got := fmt.Sprint(sink.ids()); got != "[shop-1 shop-2 shop-3]" {
		t.Fatalf("published %s", got)
	}
	if invalidations.Load() != 3 {
		t.Fatalf("%d invalidations", invalidations.Load())
	}
	sink.mu.Lock()
	m := sink.msgs[0]
	sink.mu.Unlock()
	if m.Subject != schemas.ChangesSubject("shop", "items", "insert") || m.Header.Get(schemas.HeaderType) != schemas.TypeChange {
		t.Fatalf("change event %s %v", m.Subject, m.Header)
	}

	log.record(4)
	testutil.Eventually(t, 5*time.Second, "polled", func() bool { _, d, _ := log.state(); return len(d) == 4 })

	leader.set(false)
	testutil.Eventually(t, 5*time.Second, "not capturing", func() bool { return !c.capturing.Load() })
	log.record(5)
	leader.set(true)
	testutil.Eventually(t, 5*time.Second, "leading again", func() bool { _, d, _ := log.state(); return len(d) == 5 })
	installs, _, _ := log.state()

	conn.set(&fakeConn{})
	testutil.Eventually(t, 5*time.Second, "reinstalled on the new connection", func() bool {
		i, _, _ := log.state()
		return i == installs+1
	})
}

// TestChangePublisherStopsAtFailure: when publishing an event fails, the
// ones before it are marked and it and the later ones stay undelivered.
func TestChangePublisherStopsAtFailure(t *testing.T) {
	log := &fakeChangeLog{}
	sink := &fakeSink{failID: "shop-3"}
	var invalidations atomic.Int32
	c, leader, _ := newChangePublisher(log, sink, &invalidations)
	leader.set(true)
	log.record(1, 2, 3, 4)
	c.step(context.Background())
	defer c.stop()
	if _, delivered, _ := log.state(); fmt.Sprint(delivered) != "[1 2]" {
		t.Fatalf("delivered %v, want [1 2]", delivered)
	}
	sink.mu.Lock()
	sink.failID = ""
	sink.mu.Unlock()
	c.step(context.Background())
	if _, delivered, _ := log.state(); fmt.Sprint(delivered) != "[1 2 3 4]" {
		t.Fatalf("delivered %v after the retry", delivered)
	}
}

// TestChangePublisherWakeUp: an engine's wake-up publishes at once, without
// waiting for the poll.
func TestChangePublisherWakeUp(t *testing.T) {
	log := &fakeChangeLog{wake: make(chan struct{}, 1)}
	sink := &fakeSink{}
	var invalidations atomic.Int32
	c, leader, _ := newChangePublisher(log, sink, &invalidations)
	c.db.Triggers.PollMS = 3_600_000
	leader.set(true)
	runJob(t, c)
	testutil.Eventually(t, 5*time.Second, "capturing", c.capturing.Load)
	log.record(7)
	log.wake <- struct{}{}
	testutil.Eventually(t, 5*time.Second, "woken", func() bool { _, d, _ := log.state(); return len(d) == 1 })
}

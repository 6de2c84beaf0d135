package client

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

func TestClientReplyInbox(t *testing.T) {
	ns := testutil.NATS(t)
	dial := func(opts ...nats.Option) *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	if _, err := New(dial()); err != nil {
		t.Fatalf("default inbox: %v", err)
	}
	for _, p := range []string{"dqm.evil", "db.demo", "$JS.API", "_MINE"} {
		if _, err := New(dial(nats.CustomInboxPrefix(p))); err == nil || !strings.Contains(err.Error(), "reply inbox") {
			t.Errorf("inbox prefix %s: err %v", p, err)
		}
	}
	c, err := New(dial(nats.CustomInboxPrefix("_MINE")), WithReplyPrefixes("_MINE."))
	if err != nil {
		t.Fatalf("custom prefix allowed by WithReplyPrefixes: %v", err)
	}
	if !strings.HasPrefix(c.prefix, "_MINE.") {
		t.Errorf("prefix %q ignores the connection's inbox prefix", c.prefix)
	}
	// A request id becomes the reply subject's last token: one that would
	// change the subject is refused before anything is published.
	for _, id := range []string{"a.b", "a*", ">", "a b", "x\n", strings.Repeat("x", 129)} {
		res, err := c.Query(context.Background(), "demo", 1, nil, RequestID(id))
		if !errors.Is(err, schemas.ErrBadRequest) || res.Error != schemas.CodeBadRequest {
			t.Errorf("id %q: %v %+v", id, err, res)
		}
	}
}

// flakyJS fails the first publishes as a moving cluster does, then
// publishes for real.
type flakyJS struct {
	jetstream.JetStream
	mu    sync.Mutex
	steps []func(ctx context.Context, m *nats.Msg) error
	calls int
}

func (f *flakyJS) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	f.mu.Lock()
	f.calls++
	var step func(context.Context, *nats.Msg) error
	if len(f.steps) > 0 {
		step, f.steps = f.steps[0], f.steps[1:]
	}
	f.mu.Unlock()
	if step != nil {
		return nil, step(ctx, m)
	}
	return f.JetStream.PublishMsg(ctx, m, opts...)
}

// PublishMsgAsync is PublishMsg's steps behind a future, as the client
// publishes.
func (f *flakyJS) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	fut := &doneFuture{msg: m, ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	ack, err := f.PublishMsg(context.Background(), m, opts...)
	if err != nil {
		fut.err <- err
	} else {
		fut.ok <- ack
	}
	return fut, nil
}

// doneFuture is a PubAckFuture that is already resolved.
type doneFuture struct {
	msg *nats.Msg
	ok  chan *jetstream.PubAck
	err chan error
}

func (d *doneFuture) Ok() <-chan *jetstream.PubAck { return d.ok }
func (d *doneFuture) Err() <-chan error            { return d.err }
func (d *doneFuture) Msg() *nats.Msg               { return d.msg }

// TestClientPublishRetries: a publish that meets no stream response, no
// peers, or a lost PubAck is published again with the same Nats-Msg-Id:
// the request is queued once and answered. A database without a stream
// is invalid_database; a known one whose stream stays away is 503 at the
// deadline.
func TestClientPublishRetries(t *testing.T) {
	ns := testutil.NATS(t)
	nc := testutil.Connect(t, ns)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("x"), Subjects: []string{"db.x.>"},
		Retention: jetstream.WorkQueuePolicy, Duplicates: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	// A worker: answers every request it gets.
	cc, err := cons.Consume(func(m jetstream.Msg) {
		nc.Publish(m.Headers().Get(schemas.HeaderReplyTo), []byte(`{"success":true,"database":"x","query_ref":1}`))
		m.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()

	c, err := New(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	flaky := &flakyJS{JetStream: js, steps: []func(context.Context, *nats.Msg) error{
		func(context.Context, *nats.Msg) error { return jetstream.ErrNoStreamResponse },
		func(context.Context, *nats.Msg) error {
			return &jetstream.APIError{Code: 500, ErrorCode: 10005, Description: "no suitable peers for placement, peer offline"}
		},
		func(ctx context.Context, m *nats.Msg) error { // stored, but the PubAck is lost
			if _, err := js.PublishMsg(ctx, m); err != nil {
				return err
			}
			return nats.ErrTimeout
		},
	}}
	c.js = flaky
	qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if res, err := c.Query(qctx, "x", 1, nil, RequestID("once")); err != nil || !res.Success {
		t.Fatalf("through a moving cluster: %v %+v", err, res)
	}
	// The third attempt was stored: its reply may come before the fourth.
	if flaky.calls < 3 {
		t.Errorf("%d publishes, want 3 or 4", flaky.calls)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Delivered.Stream != 1 {
		t.Errorf("queued %d times, want once", info.Delivered.Stream)
	}

	// No stream at all: JetStream says so.
	if _, err := c.Query(qctx, "nope", 1, nil); !errors.Is(err, schemas.ErrInvalidDatabase) {
		t.Errorf("no stream: %v", err)
	}
	// A database dqm knows, whose stream is not there (yet): retried until
	// the deadline, then unavailable.
	known, err := New(nc, WithDatabases(func(db string) bool { return db == "gone" }))
	if err != nil {
		t.Fatal(err)
	}
	defer known.Close()
	if _, err := known.Query(qctx, "nope", 1, nil); !errors.Is(err, schemas.ErrInvalidDatabase) {
		t.Errorf("unknown to WithDatabases: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	if _, err := known.Query(short, "gone", 1, nil); !errors.Is(err, schemas.ErrUnavailable) {
		t.Errorf("known database, no stream: %v", err)
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Errorf("gave up after %v, before the deadline", took)
	}
}

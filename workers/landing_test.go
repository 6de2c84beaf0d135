package workers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestLandingWindow: a request that reaches a worker between its stop
// and the end of its pull (the window a landing instance has while
// workers stop and the next instance starts) is answered, once, in
// time: by the stopping worker or by the next one, never left to the
// ack wait or bounced until its deliveries run out. The window is made
// wide on purpose (stopping); the ack wait is longer than the test waits,
// so a request left unacked shows as no answer.
func TestLandingWindow(t *testing.T) {
	for _, tag := range []string{schemas.TagFast, schemas.TagSlow} { // pulls of 8 and of 1
		t.Run(tag, func(t *testing.T) { landingWindow(t, tag) })
	}
}

func landingWindow(t *testing.T, tag string) {
	h := newHarness(t)
	ctx := context.Background()
	js, cons := h.queue(tag)

	inbox := nats.NewInbox()
	var replies, outOfDeliveries atomic.Int32
	for subj, n := range map[string]*atomic.Int32{inbox: &replies,
		"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>": &outOfDeliveries} {
		sub, err := h.nc.Subscribe(subj, func(*nats.Msg) { n.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Unsubscribe() })
	}
	if err := h.nc.Flush(); err != nil {
		t.Fatal(err)
	}

	// The worker that lands: its stop is slow to take effect, and the
	// request is published in between.
	published := make(chan error, 1)
	h.w.stopping = func() {
		m := queryMsg("landing-"+tag, refRead, inbox, time.Now().Add(time.Minute))
		m.Subject = schemas.RequestSubject("demo", tag)
		_, err := js.PublishMsg(ctx, m)
		published <- err
		// Until the request is answered or has run out of deliveries.
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			if replies.Load() > 0 || outOfDeliveries.Load() > 0 {
				return
			}
			time.Sleep(5 * time.Millisecond) // polling, with the deadline above
		}
	}
	actx, stopA := context.WithCancel(ctx)
	doneA := make(chan error, 1)
	go func() { doneA <- h.w.Run(actx) }()
	testutil.Eventually(t, 5*time.Second, "the worker's pull is waiting on the server", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumWaiting > 0
	})
	stopA()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	<-doneA
	if out := outOfDeliveries.Load(); out > 0 {
		t.Fatalf("the request ran out of deliveries while the worker stopped (%d advisories)", out)
	}

	// The next one starts.
	b := New(h.w.cfg)
	bctx, stopB := context.WithCancel(ctx)
	doneB := make(chan error, 1)
	go func() { doneB <- b.Run(bctx) }()
	defer func() { stopB(); <-doneB }()

	testutil.Eventually(t, 5*time.Second, "the request answered", func() bool { return replies.Load() > 0 })
	testutil.Eventually(t, 5*time.Second, "the request settled", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	if n, out := replies.Load(), outOfDeliveries.Load(); n != 1 || out != 0 {
		t.Fatalf("%d replies, %d requests out of deliveries", n, out)
	}
}

// queue makes the demo stream and tag's consumer (ack wait 30 s, five
// deliveries), and points the harness's worker at them.
func (h *harness) queue(tag string) (jetstream.JetStream, jetstream.Consumer) {
	h.t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(h.nc)
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("demo"), Subjects: schemas.RequestSubjects("demo"),
		Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		h.t.Fatal(err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: schemas.ConsumerName("demo", tag),
		FilterSubject: schemas.RequestSubject("demo", tag), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, MaxDeliver: 5})
	if err != nil {
		h.t.Fatal(err)
	}
	h.w.cfg.Tags, h.w.cfg.Stream = []string{tag}, st
	return js, cons
}

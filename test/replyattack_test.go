package test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestReplySubjectAttacks: a requester on the same NATS sets the reply
// subject of otherwise valid requests to dqm's own subjects. None is run
// or answered there: the Lead lease keeps its revision, no fake instance
// appears in dqm_status, no change event is forged, no other database's
// queue gets a message; each request is terminated (never redelivered),
// dead-lettered with reason reply_subject, and the next good request works.
func TestReplySubjectAttacks(t *testing.T) {
	s := start(t, testConfig(t))
	nc := s.NATS()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	testutil.Eventually(t, 10*time.Second, "lead", s.Lead("demo").IsLeader)
	leaders, _ := js.KeyValue(ctx, schemas.BucketLeaders)
	status, _ := js.KeyValue(ctx, schemas.BucketStatus)
	lease, err := leaders.Get(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	changes, _ := js.Stream(ctx, schemas.ChangesStream)
	before, _ := changes.Info(ctx)
	// Another database's queue, as an attacker would aim at it.
	other, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "DQM_OTHER", Subjects: schemas.RequestSubjects("other")})
	if err != nil {
		t.Fatal(err)
	}

	attacks := []string{
		"$KV.dqm_leaders.demo",
		"$KV.dqm_status.demo.fake",
		"dqm.demo.changes.numbers.update",
		"db.other.fast",
		"$JS.API.STREAM.DELETE.DQM_DEMO",
		"_INBOX.a b",
		"_INBOX.*",
		"svc.replies.1",
	}
	data, _ := json.Marshal(schemas.QueryRequest{QueryRef: 2, Params: ints("N", 1)})
	for i, to := range attacks {
		msg := wireRequest("db.demo.fast", "attack-"+string(rune('a'+i)), to, time.Now().Add(10*time.Second), data)
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	var letters []deadletter.Letter
	testutil.Eventually(t, 10*time.Second, "every attack dead-lettered", func() bool {
		letters, _ = deadletter.List(ctx, js, "demo")
		return len(letters) == len(attacks)
	})
	for _, l := range letters {
		if l.Reason != schemas.DLQReasonReplySubject {
			t.Errorf("dead letter %s: reason %q", l.RequestID, l.Reason)
		}
	}
	cons, _ := js.Consumer(ctx, schemas.StreamName("demo"), schemas.ConsumerName("demo", "fast"))
	testutil.Eventually(t, 5*time.Second, "terminated, not redelivered", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	})

	// The holder refreshes its lease (new revisions); nobody else wrote it.
	if now, err := leaders.Get(ctx, "demo"); err != nil || string(now.Value()) != string(lease.Value()) {
		t.Errorf("lease changed hands: %v %v", now, err)
	}
	if _, err := status.Get(ctx, "demo.fake"); err == nil {
		t.Error("a fake instance registered in dqm_status")
	}
	if after, _ := changes.Info(ctx); after.State.Msgs != before.State.Msgs {
		t.Errorf("change events %d → %d: one was forged", before.State.Msgs, after.State.Msgs)
	}
	if info, _ := other.Info(ctx); info.State.Msgs != 0 {
		t.Errorf("%d messages landed in another database's queue", info.State.Msgs)
	}
	if _, err := js.Stream(ctx, schemas.StreamName("demo")); err != nil {
		t.Errorf("request stream: %v", err)
	}
	if n := promtest.ToFloat64(s.Metrics().Rejected.WithLabelValues("demo", schemas.DLQReasonReplySubject)); n != float64(len(attacks)) {
		t.Errorf("dqm_requests_rejected_total{reason=reply_subject} = %v, want %d", n, len(attacks))
	}

	// The next good request works.
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	defer sub.Unsubscribe()
	if _, err := js.PublishMsg(ctx, wireRequest("db.demo.fast", "good-1", inbox, time.Now().Add(10*time.Second), data)); err != nil {
		t.Fatal(err)
	}
	if reply := nextReply(t, sub); reply["success"] != true {
		t.Fatalf("good request after the attacks: %v", reply)
	}
	t.Logf("%d attacks: lease holder unchanged (revision %d at start), no fake instance, change events %d unchanged, 0 messages in another queue, %d dead letters",
		len(attacks), lease.Revision(), before.State.Msgs, len(letters))
}

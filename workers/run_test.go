package workers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestRunThroughJetStream: through a real stream and consumer, a request
// is answered and acked; one with a forbidden reply subject and one whose
// result exceeds the NATS max payload are settled at once, each run at
// most once and never redelivered.
func TestRunThroughJetStream(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	js, err := jetstream.New(h.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("demo"), Subjects: schemas.RequestSubjects("demo"),
		Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: schemas.ConsumerName("demo", "fast"),
		FilterSubject: schemas.RequestSubject("demo", "fast"), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 2 * time.Second, MaxDeliver: 5})
	if err != nil {
		t.Fatal(err)
	}
	h.w.cfg.Stream = st
	big := `[{"n":"` + strings.Repeat("x", int(h.nc.MaxPayload())) + `"}]`
	h.e.script = func(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
		if v, _ := stmts[0].Args[0].(int64); v == 2 {
			return rows(big, 1)(ctx, stmts)
		}
		return rows(`[{"n":1}]`, 1)(ctx, stmts)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.w.Run(wctx) }()
	defer func() { stop(); <-done }()

	inbox := nats.NewInbox()
	sub, _ := h.nc.SubscribeSync(inbox)
	dlq, _ := h.nc.SubscribeSync(schemas.DLQSubject("demo"))
	publish := func(m *nats.Msg) {
		t.Helper()
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	publish(queryMsg("e2e-ok", refRead, inbox, time.Now().Add(10*time.Second)))
	if m, err := sub.NextMsg(5 * time.Second); err != nil || !strings.Contains(string(m.Data), `"success":true`) {
		t.Fatalf("reply %v %v", m, err)
	}
	publish(queryMsg("e2e-rejected", refRead, "svc.somewhere.else", time.Time{}))
	if m, err := dlq.NextMsg(5 * time.Second); err != nil || m.Header.Get(schemas.HeaderDLQReason) != "reply_subject" {
		t.Fatalf("dead letter %v %v", m, err)
	}
	big2 := queryMsg("e2e-big", refRead, inbox, time.Time{})
	big2.Data, _ = json.Marshal(schemas.QueryRequest{QueryRef: refRead, Params: schemas.Params{"INTEGER": {"N": json.RawMessage("2")}}})
	publish(big2)
	if m, err := sub.NextMsg(5 * time.Second); err != nil || !strings.Contains(string(m.Data), `"too_large"`) {
		t.Fatalf("reply %v %v", m, err)
	}
	testutil.Eventually(t, 5*time.Second, "every request settled, none redelivered", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	})
	if _, runs := h.e.counts(); runs != 2 {
		t.Fatalf("runs %d, want 2 (the rejected request never runs, the big one once)", runs)
	}
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("a second reply: %s", m.Data)
	}
}

func BenchmarkKeepInProgress(b *testing.B) {
	m := newFakeMsg(queryMsg("bench", refRead, "_INBOX.bench.1", time.Now().Add(time.Hour)))
	b.ReportAllocs()
	for b.Loop() {
		keepInProgress(m, time.Minute)()
	}
}

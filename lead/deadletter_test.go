package lead

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// TestDeadLetterReplySubject: a dead letter always reaches dqm.<db>.dlq
// and leaves the work queue, but its 503 notice goes only to a reply
// subject under an allowed prefix.
func TestDeadLetterReplySubject(t *testing.T) {
	nc := testutil.Connect(t, testutil.NATS(t))
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	db := &config.Database{Name: "dl", QueueDepthLimit: 100, MaxDeliver: 2, AckWaitMS: 1000}
	st, err := EnsureStream(ctx, js, db, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deadletter.EnsureStream(ctx, js, deadletter.Limits{}); err != nil {
		t.Fatal(err)
	}
	d, err := newDeadLetters(nc, st, "dl", "/test", []string{"_INBOX.", "svc.replies."}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer d.sub.Unsubscribe()
	dlq, _ := nc.SubscribeSync(schemas.DLQSubject("dl"))
	cases := []struct {
		replyTo string
		notice  bool
	}{
		{"_INBOX.abc", true},
		{"svc.replies.7", true},
		{"db.other.fast", false}, // someone else's queue
		{"svc.replies.*", false}, // a wildcard
		{"dqm.dl.changes.x.insert", false},
	}
	for _, c := range cases {
		t.Run(c.replyTo, func(t *testing.T) {
			watch := c.replyTo
			if watch == "svc.replies.*" {
				watch = "svc.replies.>"
			}
			ack, err := js.PublishMsg(ctx, wire.NewRequest("db.dl.slow", "req-"+c.replyTo, "/t", c.replyTo, time.Now().Add(time.Minute), []byte(`{"query_ref":7}`), 7))
			if err != nil {
				t.Fatal(err)
			}
			// After the publish: its ack comes on an inbox too.
			replies, _ := nc.SubscribeSync(watch)
			defer replies.Unsubscribe()
			if err := d.deadLetter(ctx, "dl-slow", ack.Sequence, 2); err != nil {
				t.Fatal(err)
			}
			m, err := dlq.NextMsg(5 * time.Second)
			if err != nil || m.Header.Get(HeaderDLQReason) == "" {
				t.Fatalf("dead letter %v: %v", m, err)
			}
			// One round trip: a notice published before it has arrived.
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			n, _, _ := replies.Pending()
			if got := n > 0; got != c.notice {
				t.Fatalf("notice sent %v, want %v", got, c.notice)
			}
			if c.notice {
				r, _ := replies.NextMsg(time.Second)
				if r.Header.Get(schemas.HeaderRequestID) != "req-"+c.replyTo {
					t.Fatalf("notice %v", r.Header)
				}
			}
			if _, err := st.GetMsg(ctx, ack.Sequence); err == nil {
				t.Fatal("still in the work queue")
			}
		})
	}
}

// TestDeadLetterStructuredTraced: a structured request's inbox is its
// dqmreplyto attribute; its notice is a structured event, and the Lead's
// line about it carries the request's trace_id.
func TestDeadLetterStructuredTraced(t *testing.T) {
	nc := testutil.Connect(t, testutil.NATS(t))
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	db := &config.Database{Name: "dls", QueueDepthLimit: 100, MaxDeliver: 2, AckWaitMS: 1000}
	st, err := EnsureStream(ctx, js, db, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deadletter.EnsureStream(ctx, js, deadletter.Limits{}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d, err := newDeadLetters(nc, st, "dls", "/test", nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.sub.Unsubscribe()
	replies, _ := nc.SubscribeSync("_INBOX.structured")
	defer replies.Unsubscribe()
	ev := `{"specversion":"1.0","type":"` + schemas.TypeQueryRequest + `","source":"/t","id":"s-dl","dqmreplyto":"_INBOX.structured",` +
		`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"query_ref":7}}`
	ack, err := js.Publish(ctx, "db.dls.slow", []byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.deadLetter(ctx, "dls-slow", ack.Sequence, 2); err != nil {
		t.Fatal(err)
	}
	m, err := replies.NextMsg(5 * time.Second)
	if err != nil || m.Header.Get(schemas.HeaderContentType) != schemas.ContentTypeStructured ||
		!strings.Contains(string(m.Data), `"dqmrequestid":"s-dl"`) || !strings.Contains(string(m.Data), `"status":503`) {
		t.Fatalf("notice %v %s (%v)", m, m.Data, err)
	}
	if !strings.Contains(logs.String(), `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`) {
		t.Fatalf("no trace_id in %s", logs.String())
	}
}

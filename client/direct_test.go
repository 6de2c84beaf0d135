package client

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// TestDirectClient: with Direct(), a query is one core request on
// db.<name>.direct: its reply is decoded as a queue reply's; no reply
// before the deadline is a 408 with nothing sent to the queue (the wait
// is not doubled); a "no responders" answer — what a stopping worker
// sends — sends the query to its queue instead. Each responder here
// stands in for a worker on a real NATS.
func TestDirectClient(t *testing.T) {
	nc := testutil.Connect(t, testutil.NATS(t))
	ctx := context.Background()
	js, _ := jetstream.New(nc)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("x"), Subjects: schemas.RequestSubjects("x")})
	if err != nil {
		t.Fatal(err)
	}
	queued := func() uint64 {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	c, err := New(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	answer := make(chan func(*nats.Msg), 1)
	sub, err := nc.Subscribe(schemas.DirectSubject("x"), func(m *nats.Msg) { (<-answer)(m) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	answer <- func(m *nats.Msg) {
		req, err := wire.DecodeRequest(m.Subject, m.Header, m.Data)
		if err != nil || req.ReplyTo != "" || req.Deadline.IsZero() || m.Header.Get(schemas.HeaderMsgID) != "" {
			t.Errorf("request %+v %v, headers %v", req, err, m.Header)
		}
		body := `{"success":true,"query_ref":7,"database":"x","rows":[{"n":1}],"row_count":1,"column_count":1,"execution_time_ms":0,"queue_used":"direct","cached":false,"status":200}`
		m.RespondMsg(req.Reply("/test", []byte(body)))
	}
	res, err := c.Query(ctx, "x", 7, nil, Direct())
	if err != nil || res.QueueUsed != schemas.Direct || string(res.Rows) != `[{"n":1}]` {
		t.Fatalf("answered: %+v %v", res, err)
	}
	answer <- func(m *nats.Msg) {
		m.Respond([]byte(`{"success":false,"query_ref":7,"database":"x","error":"bad_request","message":"not on the lane","status":400}`))
	}
	if _, err := c.Query(ctx, "x", 7, nil, Direct()); schemas.CodeOf(err) != schemas.CodeBadRequest {
		t.Fatalf("a failure reply: %v", err)
	}

	answer <- func(*nats.Msg) {} // never answers
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	_, err = c.Query(tctx, "x", 7, nil, Direct())
	cancel()
	if schemas.CodeOf(err) != schemas.CodeTimeout || time.Since(start) > 2*time.Second {
		t.Fatalf("no reply: %v after %s", err, time.Since(start))
	}
	if n := queued(); n != 0 {
		t.Fatalf("a timed-out direct query was sent to the queue too (%d)", n)
	}

	answer <- func(m *nats.Msg) { m.RespondMsg(&nats.Msg{Header: nats.Header{"Status": {"503"}}}) }
	tctx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = c.Query(tctx, "x", 7, nil, Direct())
	cancel()
	if schemas.CodeOf(err) != schemas.CodeTimeout || queued() != 1 {
		t.Fatalf("handed back: %v, %d queued (no worker on the queue: a timeout)", err, queued())
	}
}

package deadletter_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/topology"
	"github.com/dqmhq/dqm/schemas"
)

// dead publishes a dead letter the way the Lead does: a core NATS publish
// nobody subscribes to, which the stream must keep.
func dead(t *testing.T, nc *nats.Conn, db, id, subject string) {
	t.Helper()
	m := nats.NewMsg(schemas.DLQSubject(db))
	m.Header.Set(schemas.HeaderID, id)
	m.Header.Set(schemas.HeaderSubject, "55")
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Header.Set(schemas.HeaderDLQReason, "max deliveries")
	m.Header.Set(schemas.HeaderDLQDeliveries, "5")
	m.Header.Set(schemas.HeaderDLQSubject, subject)
	m.Data = []byte(`{"query_ref":55}`)
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
}

func TestListReplayPurge(t *testing.T) {
	ctx := context.Background()
	nc := testutil.Connect(t, testutil.NATS(t))
	js, _ := jetstream.New(nc)
	if _, err := topology.Default().EnsureShared(ctx, js); err != nil {
		t.Fatal(err)
	}
	// The request stream a replay goes back to.
	req, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("demo"), Subjects: schemas.RequestSubjects("demo")})
	if err != nil {
		t.Fatal(err)
	}
	dead(t, nc, "demo", "a", "db.demo.fast")
	dead(t, nc, "demo", "b", "db.demo.slow")
	dead(t, nc, "other", "c", "db.other.fast")
	dead(t, nc, "demo", "evil", "$KV.dqm_leaders.demo") // a letter must never replay outside its queues
	dead(t, nc, "demo", "d", "db.demo.fast")
	nc.Flush()

	var letters []deadletter.Letter
	testutil.Eventually(t, 5*time.Second, "four letters of demo", func() bool {
		letters, err = deadletter.List(ctx, js, "demo")
		return err == nil && len(letters) == 4
	})
	if l := letters[0]; l.RequestID != "a" || l.Reason != "max deliveries" || l.Deliveries != 5 || l.Subject != "db.demo.fast" || l.Ref != "55" {
		t.Fatalf("letter %+v", l)
	}

	got, err := deadletter.Replay(ctx, js, "demo", []string{"b"})
	if err != nil || !slices.Equal(got, []string{"b"}) {
		t.Fatalf("replay b: %v %v", got, err)
	}
	m, err := req.GetLastMsgForSubject(ctx, "db.demo.slow")
	if err != nil || m.Header.Get(schemas.HeaderID) != "b" || string(m.Data) != `{"query_ref":55}` ||
		m.Header.Get(schemas.HeaderDLQReason) != "" || m.Header.Get(jetstream.MsgIDHeader) == "b" {
		t.Fatalf("replayed message: %+v %v", m, err)
	}
	if letters, _ = deadletter.List(ctx, js, "demo"); len(letters) != 3 {
		t.Fatalf("after replay: %d letters", len(letters))
	}
	// Replaying all goes on past the letter with a foreign subject, which
	// stays, and names it.
	if got, err := deadletter.Replay(ctx, js, "demo", nil); err == nil || !strings.Contains(err.Error(), `(request "evil")`) ||
		!slices.Equal(got, []string{"a", "d"}) {
		t.Fatalf("replay all: %v %v", got, err)
	}
	if n, err := deadletter.Purge(ctx, js, "demo"); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if letters, _ = deadletter.List(ctx, js, "demo"); len(letters) != 0 {
		t.Fatalf("after purge: %d", len(letters))
	}
	if others, _ := deadletter.List(ctx, js, "other"); len(others) != 1 {
		t.Fatalf("other database's letters: %d", len(others))
	}
}

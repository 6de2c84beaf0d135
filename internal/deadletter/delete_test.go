package deadletter_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/topology"
)

// TestHeadDelete: Head pages a database's letters; Delete removes only
// that database's, by sequence.
func TestHeadDelete(t *testing.T) {
	ctx := context.Background()
	nc := testutil.Connect(t, testutil.NATS(t))
	js, _ := jetstream.New(nc)
	if _, err := topology.Default().EnsureShared(ctx, js); err != nil {
		t.Fatal(err)
	}
	dead(t, nc, "demo", "a", "db.demo.fast")
	dead(t, nc, "other", "c", "db.other.fast")
	dead(t, nc, "demo", "b", "db.demo.slow")
	nc.Flush()
	var head []deadletter.Letter
	var more bool
	testutil.Eventually(t, 5*time.Second, "letters stored", func() bool {
		var err error
		head, more, err = deadletter.Head(ctx, js, "demo", 1)
		return err == nil && len(head) == 1 && more
	})
	if head[0].RequestID != "a" {
		t.Fatalf("head %+v", head)
	}
	all, more, err := deadletter.Head(ctx, js, "demo", 10)
	if err != nil || len(all) != 2 || more {
		t.Fatalf("all: %d %v %v", len(all), more, err)
	}
	// Seq 2 is the other database's: refused silently; 99 is nobody's.
	n, err := deadletter.Delete(ctx, js, "demo", []uint64{all[0].Seq, 2, 99})
	if err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if left, _ := deadletter.List(ctx, js, "demo"); len(left) != 1 || left[0].RequestID != "b" {
		t.Fatalf("left %+v", left)
	}
	if others, _ := deadletter.List(ctx, js, "other"); len(others) != 1 {
		t.Fatalf("the other database's letter is gone: %+v", others)
	}
}

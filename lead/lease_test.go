package lead

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/testutil"
)

func leadersKV(t *testing.T, ttl time.Duration) jetstream.KeyValue {
	t.Helper()
	js, err := jetstream.New(testutil.Connect(t, testutil.NATS(t)))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "dqm_leaders", TTL: ttl, History: 1})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// TestLeaseJob: of two instances one leads; when it gives the lease up
// (landing), the other takes it at its next refresh.
func TestLeaseJob(t *testing.T) {
	kv := leadersKV(t, 5*time.Second)
	newJob := func(holder string) (*leaseJob, *leaderState) {
		s := &leaderState{}
		return &leaseJob{lease: NewLease(kv, "shop", holder), leader: s, every: 20 * time.Millisecond, log: quiet()}, s
	}
	a, aLeads := newJob("a")
	b, bLeads := newJob("b")
	var changes []bool
	a.onChange = func(held bool) { changes = append(changes, held) }

	ctx, stopA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { doneA <- a.run(ctx) }()
	testutil.Eventually(t, 5*time.Second, "a leads", aLeads.get)
	if held, err := b.lease.Try(context.Background()); held || err != nil {
		t.Fatalf("b took a held lease: %v %v", held, err)
	}
	stopA()
	<-doneA
	if holder := a.lease.Holder(context.Background()); holder != "a" {
		t.Fatalf("the job released the lease itself (holder %q)", holder)
	}
	a.lease.Release(context.Background())
	runJob(t, b)
	testutil.Eventually(t, 5*time.Second, "b leads", bLeads.get)
	if len(changes) != 1 || !changes[0] {
		t.Fatalf("a's changes %v", changes)
	}
}

// TestLeaseReclaim: a refresh that failed after writing (its answer lost
// while a NATS leader moved) gives the lease up locally; the next Try
// finds the key still holding this holder's id and takes it back at once,
// instead of leaving the Lead vacant until the TTL. Another holder's key is
// never taken.
func TestLeaseReclaim(t *testing.T) {
	kv := leadersKV(t, 5*time.Second)
	ctx := context.Background()
	a := NewLease(kv, "shop", "a")
	if held, err := a.Try(ctx); !held || err != nil {
		t.Fatalf("a: %v %v", held, err)
	}
	// The refresh was applied, but a's answer was lost: its revision is stale.
	if _, err := kv.Update(ctx, "shop", []byte("a"), a.rev); err != nil {
		t.Fatal(err)
	}
	if held, err := a.Try(ctx); held || err != nil {
		t.Fatalf("a refreshed with a stale revision: %v %v", held, err)
	}
	if held, err := a.Try(ctx); !held || err != nil {
		t.Fatalf("a did not take its own lease back: %v %v", held, err)
	}
	if held, err := a.Try(ctx); !held || err != nil {
		t.Fatalf("a cannot refresh the lease it took back: %v %v", held, err)
	}
	b := NewLease(kv, "shop", "b")
	if held, err := b.Try(ctx); held || err != nil {
		t.Fatalf("b took a's lease: %v %v", held, err)
	}
}

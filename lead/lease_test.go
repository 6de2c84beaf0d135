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

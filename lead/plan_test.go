package lead

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// fakeSizer records the pool sizes asked for.
type fakeSizer struct {
	mu   sync.Mutex
	size map[string]int
}

func (s *fakeSizer) resize(tag string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size == nil {
		s.size = map[string]int{}
	}
	s.size[tag] = n
}

func (s *fakeSizer) get(tag string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.size[tag] }

// busyLoads reports every worker busy and requests waiting.
type busyLoads struct{ p *planner }

func (b busyLoads) load(_ context.Context, tag string) (uint64, int, error) {
	return 10, b.p.desired(tag), nil
}

func planKVs(t *testing.T) (plans, status jetstream.KeyValue) {
	t.Helper()
	js, err := jetstream.New(testutil.Connect(t, testutil.NATS(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if plans, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "dqm_leaders"}); err != nil {
		t.Fatal(err)
	}
	if status, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "dqm_status"}); err != nil {
		t.Fatal(err)
	}
	return plans, status
}

func testPlanner(db *config.Database, instance string, plans, status jetstream.KeyValue) (*planner, *leaderState, *fakeSizer) {
	p := newPlanner(db, instance)
	leader, pool := &leaderState{}, &fakeSizer{}
	p.plans, p.members, p.leader, p.pool = plans, status, leader, pool
	p.tick, p.refresh, p.log = 10*time.Millisecond, 10*time.Millisecond, quiet()
	p.loads = busyLoads{p}
	return p, leader, pool
}

// TestPlannerShare: an instance that does not lead reads the Lead's plan
// and runs its share among the instances listed in dqm_status.
func TestPlannerShare(t *testing.T) {
	plans, status := planKVs(t)
	ctx := context.Background()
	db := &config.Database{Name: "shop", Queues: map[string]config.Queue{"fast": {Min: 1, Max: 4}}}
	for _, k := range []string{"shop.a", "shop.b", "other.c"} {
		status.Put(ctx, k, []byte(`{}`))
	}
	b, _ := json.Marshal(schemas.Plan{Leader: "x", Workers: map[string]int{"fast": 3}})
	plans.Put(ctx, "shop.plan", b)
	pa, _, poolA := testPlanner(db, "a", plans, status)
	pb, _, poolB := testPlanner(db, "b", plans, status)
	runJob(t, pa)
	runJob(t, pb)
	testutil.Eventually(t, 5*time.Second, "shares 2 and 1", func() bool {
		return poolA.get("fast") == 2 && poolB.get("fast") == 1 && pb.desired("fast") == 3
	})
}

// TestPlannerScales: the Lead scales a busy tag up one worker at a time
// to its max and writes the plan; a lone instance runs all of it.
func TestPlannerScales(t *testing.T) {
	plans, status := planKVs(t)
	db := &config.Database{Name: "shop", Queues: map[string]config.Queue{"fast": {Min: 1, Max: 3}, "slow": {Min: 0, Max: 0}},
		ScaleDownAfterS: 3600}
	p, leader, pool := testPlanner(db, "a", plans, status)
	if p.desired("fast") != 1 {
		t.Fatalf("launch plan %d", p.desired("fast"))
	}
	runJob(t, p)
	testutil.Eventually(t, 5*time.Second, "one fast worker", func() bool { return pool.get("fast") == 1 })
	leader.set(true)
	testutil.Eventually(t, 5*time.Second, "scaled to max", func() bool { return pool.get("fast") == 3 })
	testutil.Eventually(t, 5*time.Second, "plan in KV", func() bool {
		e, err := plans.Get(context.Background(), "shop.plan")
		var plan schemas.Plan
		return err == nil && json.Unmarshal(e.Value(), &plan) == nil && plan.Leader == "a" && plan.Workers["fast"] == 3
	})
	if pool.get("slow") != 0 {
		t.Fatal("a max 0 tag got workers")
	}
}

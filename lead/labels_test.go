package lead

import (
	"context"
	"fmt"
	"testing"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

func TestLabels(t *testing.T) {
	db := &config.Database{Name: "acuranzo"}
	cases := []struct {
		n    int
		tags []string
		want string
	}{
		{0, nil, "DQM-Acuranzo-00-L"},
		{0, []string{"slow", "medium", "fast", "cache"}, "DQM-Acuranzo-00-LSMFC"},
		{0, []string{"cache", "slow"}, "DQM-Acuranzo-00-LSC"}, // letters in fixed order
		{3, []string{"fast"}, "DQM-Acuranzo-03-F"},
		{12, []string{"medium"}, "DQM-Acuranzo-12-M"},
	}
	for _, c := range cases {
		if got := Label(db, c.n, c.tags); got != c.want {
			t.Errorf("Label(%d, %v) = %s, want %s", c.n, c.tags, got, c.want)
		}
	}
	if got := schemas.Label("demo", 105, []string{"slow"}); got != "DQM-Demo-105-S" {
		t.Errorf("three digits: %s", got)
	}
}

// fakeWorker stands in for a workers.Worker in the pool: it runs until
// stopped.
type fakeWorker struct {
	label string
	tags  []string
}

func (w *fakeWorker) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (w *fakeWorker) Label() string                 { return w.label }
func (w *fakeWorker) Tags() []string                { return w.tags }
func (w *fakeWorker) Stats() (uint64, uint64)       { return 0, 0 }

// fakePool is the pool production uses, with fake workers labelled as
// production labels them.
func fakePool(t *testing.T, db *config.Database) *pool {
	t.Helper()
	p := newPool(context.Background(), func(n int, tags []string) worker {
		return &fakeWorker{label: Label(db, n, tags), tags: tags}
	})
	t.Cleanup(p.stop)
	return p
}

// TestLaunchPlan: the workers a lone instance starts — the Lead (00) with
// its kept tags, then each tag's min workers (at least one while max > 0),
// numbered from 01 in tag order S M F C.
func TestLaunchPlan(t *testing.T) {
	q := func(min, max int) config.Queue { return config.Queue{Min: min, Max: max} }
	cases := []struct {
		name   string
		queues map[string]config.Queue
		labels string
	}{
		{"default: one child per tag", map[string]config.Queue{"slow": q(1, 1), "medium": q(1, 1), "fast": q(1, 1), "cache": q(1, 1)},
			"[DQM-Db-00-L DQM-Db-01-S DQM-Db-02-M DQM-Db-03-F DQM-Db-04-C]"},
		{"max 0 stays on the Lead", map[string]config.Queue{"slow": q(0, 0), "medium": q(1, 2), "fast": q(2, 4), "cache": q(0, 0)},
			"[DQM-Db-00-LSC DQM-Db-01-M DQM-Db-02-F DQM-Db-03-F]"},
		{"everything on the Lead", map[string]config.Queue{"slow": q(0, 0), "medium": q(0, 0), "fast": q(0, 0), "cache": q(0, 0)},
			"[DQM-Db-00-LSMFC]"},
		{"min 0 still starts one", map[string]config.Queue{"fast": q(0, 3)},
			"[DQM-Db-00-L DQM-Db-01-F]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := &config.Database{Name: "db", Queues: c.queues}
			pool := fakePool(t, db)
			pool.start(0, "lead", LeadTags(db))
			p := newPlanner(db, "a")
			p.pool = pool
			p.apply()
			var labels []string
			for _, w := range pool.all() {
				labels = append(labels, w.Label())
			}
			if got := fmt.Sprint(labels); got != c.labels {
				t.Errorf("launch %s, want %s", got, c.labels)
			}
		})
	}
}

package lead

import (
	"context"
	"slices"
	"sync"

	"github.com/dqmhq/dqm/workers"
)

// worker is what the pool runs: a workers.Worker in production.
type worker interface {
	Run(ctx context.Context) error
	Label() string
	Tags() []string
	Stats() (processed, failed uint64)
}

var _ worker = (*workers.Worker)(nil)

// pool is the workers of one database running on this instance, per tag.
// It starts and stops them to match a target; it does not decide targets.
type pool struct {
	newWorker func(n int, tags []string) worker
	ctx       context.Context

	// changed, if set, is told when the pool's workers change (status).
	changed func()

	mu    sync.Mutex
	byTag map[string][]*running
	used  map[int]bool // label numbers in use; 00 is the Lead's
	wg    sync.WaitGroup
}

type running struct {
	n      int
	w      worker
	cancel context.CancelFunc
}

func newPool(ctx context.Context, newWorker func(n int, tags []string) worker) *pool {
	return &pool{ctx: ctx, newWorker: newWorker, byTag: map[string][]*running{}, used: map[int]bool{0: true}}
}

// start runs a worker with number n (0 for the Lead's own) for tags.
func (p *pool) start(n int, key string, tags []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLocked(n, key, tags)
}

func (p *pool) startLocked(n int, key string, tags []string) {
	ctx, cancel := context.WithCancel(p.ctx)
	r := &running{n: n, w: p.newWorker(n, tags), cancel: cancel}
	p.used[n] = true
	p.byTag[key] = append(p.byTag[key], r)
	p.wg.Go(func() { r.w.Run(ctx) })
}

// resize starts or stops workers of tag until n run. Stopped workers
// finish the request they hold; the newest go first.
func (p *pool) resize(tag string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.byTag[tag]) != n && p.changed != nil {
		defer p.changed()
	}
	for len(p.byTag[tag]) < n {
		num := 1
		for p.used[num] {
			num++
		}
		p.startLocked(num, tag, []string{tag})
	}
	for len(p.byTag[tag]) > n {
		rs := p.byTag[tag]
		last := rs[len(rs)-1]
		p.byTag[tag] = rs[:len(rs)-1]
		delete(p.used, last.n)
		last.cancel()
	}
}

// count is the number of workers of tag.
func (p *pool) count(tag string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byTag[tag])
}

// all lists the running workers in label order.
func (p *pool) all() []worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rs []*running
	for _, list := range p.byTag {
		rs = append(rs, list...)
	}
	slices.SortFunc(rs, func(a, b *running) int { return a.n - b.n })
	out := make([]worker, len(rs))
	for i, r := range rs {
		out[i] = r.w
	}
	return out
}

// stop stops every worker and waits until each has finished.
func (p *pool) stop() {
	p.mu.Lock()
	for _, rs := range p.byTag {
		for _, r := range rs {
			r.cancel()
		}
	}
	p.byTag = map[string][]*running{}
	p.mu.Unlock()
	p.wg.Wait()
}

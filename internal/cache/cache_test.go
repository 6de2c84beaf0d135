package cache

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

func result(rows string) *Answer {
	return &Answer{Result: schemas.Result{Success: true, Rows: []byte(rows), RowCount: 1}}
}

func fillWith(rows string, calls *atomic.Int32) func(context.Context) *Answer {
	return func(context.Context) *Answer {
		if calls != nil {
			calls.Add(1)
		}
		return result(rows)
	}
}

func TestHitMissAndTTL(t *testing.T) {
	c := New(0, 0)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	var calls atomic.Int32
	r := c.Do(ctx, "db", "k", []string{"t"}, time.Minute, fillWith(`[1]`, &calls))
	if r.Result.Cached || calls.Load() != 1 {
		t.Fatalf("first call: %+v", r)
	}
	now = now.Add(59 * time.Second)
	r = c.Do(ctx, "db", "k", []string{"t"}, time.Minute, fillWith(`[2]`, &calls))
	if !r.Result.Cached || string(r.Result.Rows) != `[1]` || r.Result.CacheAgeMS != 59000 || calls.Load() != 1 {
		t.Fatalf("within TTL: %+v", r)
	}
	now = now.Add(time.Second)
	r = c.Do(ctx, "db", "k", []string{"t"}, time.Minute, fillWith(`[3]`, &calls))
	if r.Result.Cached || string(r.Result.Rows) != `[3]` {
		t.Fatalf("after TTL: %+v", r)
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 2 || s.Entries != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFailuresAreNotCached(t *testing.T) {
	c := New(0, 0)
	var calls atomic.Int32
	fail := func(context.Context) *Answer {
		calls.Add(1)
		return &Answer{Result: schemas.Result{Error: schemas.CodeTimeout}}
	}
	c.Do(context.Background(), "db", "k", nil, time.Minute, fail)
	c.Do(context.Background(), "db", "k", nil, time.Minute, fail)
	if calls.Load() != 2 || c.Len("") != 0 {
		t.Fatalf("calls %d entries %d", calls.Load(), c.Len(""))
	}
}

func TestLRUBounds(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		c := New(2, 0)
		ctx := context.Background()
		c.Do(ctx, "db", "a", nil, time.Minute, fillWith(`[1]`, nil))
		c.Do(ctx, "db", "b", nil, time.Minute, fillWith(`[1]`, nil))
		c.Do(ctx, "db", "a", nil, time.Minute, fillWith(`[1]`, nil)) // a is now most recent
		c.Do(ctx, "db", "c", nil, time.Minute, fillWith(`[1]`, nil)) // evicts b
		if _, ok := c.peek("b"); ok {
			t.Fatal("b should be evicted")
		}
		if _, ok := c.peek("a"); !ok {
			t.Fatal("a should stay")
		}
		if s := c.Stats(); s.Entries != 2 || s.Evictions != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		big := "[" + strings.Repeat("1", 1000) + "]"
		c := New(0, 3000)
		ctx := context.Background()
		for _, k := range []string{"a", "b", "c", "d"} {
			c.Do(ctx, "db", k, nil, time.Minute, fillWith(big, nil))
		}
		if s := c.Stats(); s.Bytes > 3000 || s.Entries != 2 || s.Evictions != 2 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// TestSingleflight: concurrent misses of one key run one fill. The fill
// holds until every caller has missed, so without the shared flight each
// of them would run its own.
func TestSingleflight(t *testing.T) {
	const callers = 100
	c := New(0, 0)
	var misses atomic.Int32
	allMissed := make(chan struct{})
	c.OnEvent = func(_, ev string) {
		if ev == "miss" && misses.Add(1) == callers {
			close(allMissed)
		}
	}
	var calls atomic.Int32
	fill := func(context.Context) *Answer {
		calls.Add(1)
		select {
		case <-allMissed:
		case <-time.After(30 * time.Second):
			t.Errorf("%d of %d callers missed", misses.Load(), callers)
		}
		return result(`[42]`)
	}
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if r := c.Do(context.Background(), "db", "k", nil, time.Minute, fill); string(r.Result.Rows) != `[42]` {
				t.Errorf("rows %s", r.Result.Rows)
			}
		})
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("%d fills for %d concurrent misses", calls.Load(), callers)
	}
}

func TestInvalidate(t *testing.T) {
	c := New(0, 0)
	ctx := context.Background()
	c.Do(ctx, "db", "reads-t", []string{"t"}, time.Minute, fillWith(`[1]`, nil))
	c.Do(ctx, "db", "reads-u", []string{"u"}, time.Minute, fillWith(`[1]`, nil))
	c.Do(ctx, "other", "other-t", []string{"t"}, time.Minute, fillWith(`[1]`, nil))
	if n := c.Invalidate("db", "t"); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	if _, ok := c.peek("reads-t"); ok {
		t.Fatal("reads-t survived")
	}
	for _, k := range []string{"reads-u", "other-t"} {
		if _, ok := c.peek(k); !ok {
			t.Fatalf("%s dropped", k)
		}
	}
}

// TestFillRacingInvalidation: a result computed while its table was
// invalidated may predate the write, so it must not be stored.
func TestFillRacingInvalidation(t *testing.T) {
	c := New(0, 0)
	ctx := context.Background()
	r := c.Do(ctx, "db", "k", []string{"t"}, time.Minute, func(context.Context) *Answer {
		c.Invalidate("db", "t") // the write commits while the query runs
		return result(`[old]`)
	})
	if string(r.Result.Rows) != `[old]` {
		t.Fatal(r)
	}
	if _, ok := c.peek("k"); ok {
		t.Fatal("a result that raced an invalidation was cached")
	}
	c.Do(ctx, "db", "k", []string{"t"}, time.Minute, func(context.Context) *Answer {
		c.Clear()
		return result(`[old]`)
	})
	if _, ok := c.peek("k"); ok {
		t.Fatal("a result that raced a clear was cached")
	}
}

// TestFillKeepsDeadlineNotCancel: the fill outlives its first caller's
// cancellation (others share it) but not its deadline.
func TestFillKeepsDeadlineNotCancel(t *testing.T) {
	c := New(0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	deadline, _ := ctx.Deadline()
	cancel()
	c.Do(ctx, "db", "k", nil, time.Minute, func(fctx context.Context) *Answer {
		if fctx.Err() != nil {
			t.Error("the fill saw its caller's cancellation")
		}
		if d, ok := fctx.Deadline(); !ok || !d.Equal(deadline) {
			t.Errorf("fill deadline %v %v, want %v", d, ok, deadline)
		}
		return result(`[1]`)
	})
}

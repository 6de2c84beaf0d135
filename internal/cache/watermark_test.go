package cache

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestWatermarks: the gap detector, message by message, on a fake clock.
func TestWatermarks(t *testing.T) {
	now := time.Unix(1000, 0)
	w := NewWatermarks()
	w.now = func() time.Time { return now }
	const sec = time.Second
	steps := []struct {
		name string
		do   func() bool
		drop bool
	}{
		{"a new publisher with nothing sent", func() bool { return w.Watermark("db", "A", 0, sec, false) }, false},
		{"its first invalidation", func() bool { return w.Invalidation("db", "A", 1) }, false},
		{"the next one", func() bool { return w.Invalidation("db", "A", 2) }, false},
		{"a watermark it has reached", func() bool { return w.Watermark("db", "A", 2, sec, false) }, false},
		{"3 lost, 4 arrives", func() bool { return w.Invalidation("db", "A", 4) }, true},
		{"5 lost, the watermark says 5", func() bool { return w.Watermark("db", "A", 5, sec, false) }, true},
		{"in step again", func() bool { return w.Invalidation("db", "A", 6) }, false},
		{"a repeat is not a gap", func() bool { return w.Invalidation("db", "A", 6) }, false},
		{"a publisher first heard of past its start", func() bool { return w.Watermark("db", "B", 7, sec, false) }, true},
		{"an invalidation of a publisher never heard of, not its first", func() bool { return w.Invalidation("db", "C", 3) }, true},
		{"another database is apart", func() bool { return w.Invalidation("other", "A", 1) }, false},
		{"a final watermark it has reached", func() bool { return w.Watermark("db", "C", 3, sec, true) }, false},
		{"after final, C is new again", func() bool { return w.Invalidation("db", "C", 1) }, false},
	}
	for _, s := range steps {
		if got := s.do(); got != s.drop {
			t.Fatalf("%s: drop %v, want %v", s.name, got, s.drop)
		}
	}
	if got := w.Overdue(); len(got) != 0 {
		t.Fatalf("overdue at once: %v", got)
	}
	// Silence: A and B keep sending, C stops; two intervals later C is
	// forgotten and db dropped (once), other is dropped too (nobody left).
	now = now.Add(1500 * time.Millisecond)
	w.Watermark("db", "A", 6, sec, false)
	w.Watermark("db", "B", 7, sec, false)
	now = now.Add(600 * time.Millisecond)
	if got := sortd(w.Overdue()); !slices.Equal(got, []string{"db", "other"}) {
		t.Fatalf("overdue %v", got)
	}
	got := sortd(w.Overdue())
	if slices.Contains(got, "db") {
		t.Fatalf("db dropped twice for one silent publisher: %v", got)
	}
	// A database expected but never heard of is dropped after two intervals,
	// and again two intervals later while it stays silent.
	w.Expect("quiet")
	now = now.Add(2100 * time.Millisecond)
	if got := w.Overdue(); !slices.Contains(got, "quiet") {
		t.Fatalf("quiet not overdue: %v", got)
	}
	if got := w.Overdue(); slices.Contains(got, "quiet") {
		t.Fatalf("quiet dropped twice at once: %v", got)
	}
	now = now.Add(2100 * time.Millisecond)
	if got := w.Overdue(); !slices.Contains(got, "quiet") {
		t.Fatalf("quiet not overdue again: %v", got)
	}
	if d := w.CheckEvery(); d != 250*time.Millisecond {
		t.Fatalf("check every %v", d)
	}
	w.Watermark("fast", "F", 0, 100*time.Millisecond, false)
	if d := w.CheckEvery(); d != 25*time.Millisecond {
		t.Fatalf("check every %v with a 100 ms publisher", d)
	}
}

func sortd(s []string) []string { slices.Sort(s); return s }

// TestDropDatabase: only that database's entries go, and a fill in flight
// for it is not stored.
func TestDropDatabase(t *testing.T) {
	c := New(0, 0)
	ctx := context.Background()
	c.Do(ctx, "a", Key("a", 1, ""), []string{"t"}, time.Minute, fillWith(`[1]`, nil))
	c.Do(ctx, "a", Key("a", 2, ""), nil, time.Minute, fillWith(`[1]`, nil))
	c.Do(ctx, "b", Key("b", 1, ""), []string{"t"}, time.Minute, fillWith(`[1]`, nil))
	c.Do(ctx, "a", Key("a", 3, ""), nil, time.Minute, func(context.Context) *Answer {
		if n := c.DropDatabase("a"); n != 2 {
			t.Errorf("dropped %d", n)
		}
		return result(`[2]`)
	})
	if c.Len("a") != 0 || c.Len("b") != 1 || c.Stats().Drops != 1 {
		t.Fatalf("a %d b %d stats %+v", c.Len("a"), c.Len("b"), c.Stats())
	}
}
